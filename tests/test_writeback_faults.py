"""Every directory answer to a write-back has one outcome, the same on the web page, the REST
API and the command line (docs/architecture.md, "Write-back: every directory answer").

One test per row of that table, against real slapd servers: a read-only replica that refers
writes to its provider, ``olcReadOnly``, an ACL denial, a schema violation, a field mapped to
the RDN attribute, a value changed between opening and saving, slapd stopped in the middle
of the write, and an entry renamed, deleted or replaced while an edit waited. The person's
value is kept and every attempt audited in each case.
"""

from __future__ import annotations

import html
import json
import re
from io import StringIO

import ldap
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.errors import DirectoryBusy, DirectoryUnreachable, WriteRefused
from profilesync.ldapclient.modify import ldap_write_error, read_values
from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync
from profilesync.testing.replica import ReadOnlyReplica
from profilesync.testing.write_cut_relay import WriteCutRelay
from profilesync.writeback.directory_writer import outcome_of
from profilesync.writeback.models import PendingStatus, PendingWrite, WriteAudit
from profilesync.writeback.retry import retry_due_writes
from profilesync.writeback.service import FieldEdit, apply_edit

pytestmark = pytest.mark.django_db

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"
SERVICE_DN = "cn=sync,dc=example,dc=org"
# The ACL server's rules (tests/conftest.py), for the replica in front of it.
WRITE_ACCESS = (
    "to attrs=userPassword by self write by anonymous auth by * none",
    f'to attrs=title by dn.exact="{SERVICE_DN}" read by * read',
    f'to * by dn.exact="{SERVICE_DN}" write by * read',
)
SURFACES = ["web", "api", "cli"]


@pytest.fixture
def corp(acl_directory):
    """Ann synced; write-back on for phone, title, and two badly mapped fields: ``login``
    (uid, the RDN attribute) and ``badge`` (uidNumber, not allowed by inetOrgPerson)."""
    ProfileField.objects.create(key="login", label="Login", ldap_attribute="uid")
    ProfileField.objects.create(key="badge", label="Badge", ldap_attribute="uidNumber")
    run_sync([acl_directory])
    set_setting("writeback_enabled", "on")
    for key in ("phone", "title", "login", "badge", "display_name"):
        update_field(ProfileField.objects.get(key=key), {"write_back": True})
    return acl_directory


class Surfaces:
    """Ann saving one field through the web dialog, the REST API or ``profile set``.

    Each answers ``(outcome, text)``: written, conflict, pending or refused, and what the
    person was shown.
    """

    def __init__(self) -> None:
        self.client = Client(enforce_csrf_checks=True)
        login = self.client.get("/login/").content.decode()
        answer = self.client.post("/login/", {"username": "ann", "password": "ann-pw-1",
                                              "csrfmiddlewaretoken": _csrf(login)})
        assert answer.status_code == 302, "Ann could not log in"
        self.token = ""

    @property
    def edit_url(self) -> str:
        return f"/people/{Profile.objects.get(username='ann').pk}/edit/"

    def open_dialog(self) -> dict[str, str]:
        return _inputs(self.client.get(self.edit_url).content.decode())

    def web(self, key: str, value: str, form: dict[str, str] | None = None) -> tuple[str, str]:
        form = form if form is not None else self.open_dialog()
        form[key] = value
        answer = self.client.post(self.edit_url, form)
        if answer.status_code == 302:
            page = html.unescape(self.client.get(answer["Location"]).content.decode())
            return ("pending" if "the change is pending" in page else "written"), page
        page = html.unescape(answer.content.decode())
        if "Changed in the directory since you opened this" in page:
            return "conflict", page
        assert "Not written to the directory" in page, page
        return "refused", page

    def api(self, key: str, value: str, seen: str | None = None) -> tuple[str, str]:
        if not self.token:
            out = StringIO()
            call_command("token", "create", "ann", "--name", "faults", stdout=out)
            self.token = out.getvalue().strip()
        body: dict = {"values": {key: value}}
        if seen is not None:
            body["seen"] = {key: seen}
        answer = Client(enforce_csrf_checks=True).patch(
            "/api/v1/people/me", body, content_type="application/json",
            headers={"Authorization": f"Bearer {self.token}"})
        data = answer.json()
        text = json.dumps(data, ensure_ascii=False)
        if answer.status_code == 200:
            return ("pending" if data["pending"] else "written"), text
        assert answer.status_code == 409, text
        return ("conflict" if data["conflicts"] else "refused"), text

    def cli(self, key: str, value: str) -> tuple[str, str]:
        out, err = StringIO(), StringIO()
        try:
            call_command("profile", "set", "ann", key, value, stdout=out, stderr=err)
        except SystemExit as exc:
            assert exc.code == 1
            text = err.getvalue()
            if "not written yet" in text:
                return "pending", text
            if "changed in the directory meanwhile" in text:
                return "conflict", text
            return "refused", text
        return "written", out.getvalue()

    def save(self, surface: str, key: str, value: str) -> tuple[str, str]:
        return getattr(self, surface)(key, value)


def _csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def _inputs(page: str) -> dict[str, str]:
    values = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag:
            values[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return values


def directory_values(directory, attribute: str, dn: str = ANN_DN) -> list[bytes]:
    with connected(directory.connection_settings()) as conn:
        return sorted(read_values(conn, dn, attribute))


def assert_kept_and_audited(key: str, value: str, attribute: str, status: str) -> None:
    """The person's value is kept on a row, and the attempt audited with old and new."""
    row = PendingWrite.objects.exclude(status=PendingStatus.SUPERSEDED).get(field_key=key)
    assert (row.status, row.value) == (status, value)
    audit = WriteAudit.objects.filter(attribute=attribute).latest("id")
    assert (audit.actor, audit.profile_username, audit.new_value) == ("ann" if audit.actor
                                                                      != "cli" else "cli",
                                                                      "ann", value)
    assert audit.result == status and audit.message


# -- refusals: permanent, with the directory's message and what to change ---------

@pytest.mark.parametrize("surface", SURFACES)
def test_read_only_replica_refers_writes_to_its_provider(corp, acl_server, tmp_path, surface):
    """The directory's URL is a read-only consumer: the write is refused, naming the
    provider's URL to add; the person's value is kept."""
    with ReadOnlyReplica(acl_server, run_dir=tmp_path / "replica", access=WRITE_ACCESS) as replica:
        replica.wait_for_entry(ANN_DN)
        Directory.objects.filter(pk=corp.pk).update(urls=[replica.ldap_uri])
        people = Surfaces()

        outcome, text = people.save(surface, "phone", "+49 30 2222")

    assert outcome == "refused"
    assert "read-only replica and refers writes to " + acl_server.ldap_uri in text
    assert "add the provider's URL" in text
    assert_kept_and_audited("phone", "+49 30 2222", "telephoneNumber", "refused")
    assert directory_values(corp, "telephoneNumber") == [  # at the provider
        b"+49 30 1111"]


@pytest.mark.parametrize("surface", SURFACES)
def test_read_only_database(corp, acl_server, surface):
    """olcReadOnly: the server is unwilling; the message says the database may be read-only."""
    people = Surfaces()
    admin = acl_server.connect()
    admin.modify_s("olcDatabase={1}mdb,cn=config", [(ldap.MOD_REPLACE, "olcReadOnly", [b"TRUE"])])
    admin.unbind_s()

    outcome, text = people.save(surface, "phone", "+49 30 2222")

    assert outcome == "refused" and "unwilling" in text and "read-only" in text
    assert_kept_and_audited("phone", "+49 30 2222", "telephoneNumber", "refused")


@pytest.mark.parametrize("surface", SURFACES)
def test_acl_denial(corp, surface):
    """The service account may not write title: refused as insufficient access."""
    outcome, text = Surfaces().save(surface, "title", "Director")

    assert outcome == "refused" and "insufficient access" in text
    assert_kept_and_audited("title", "Director", "title", "refused")
    assert directory_values(corp, "title") == [b"Engineer"]


@pytest.mark.parametrize("surface", SURFACES)
def test_schema_violation(corp, surface):
    """A field mapped to an attribute the entry's object classes do not allow."""
    outcome, text = Surfaces().save(surface, "badge", "4711")

    assert outcome == "refused" and "object classes do not allow uidNumber" in text
    assert "check the field's LDAP attribute" in text
    assert_kept_and_audited("badge", "4711", "uidNumber", "refused")


@pytest.mark.parametrize("surface", SURFACES)
def test_field_mapped_to_the_rdn_attribute(corp, surface):
    """uid is Ann's RDN: a modify may not change it; the message says to map another
    attribute or turn write-back off."""
    outcome, text = Surfaces().save(surface, "login", "ann2")

    assert outcome == "refused" and "part of the entry's name (its RDN)" in text
    assert "map the field to an attribute that is not part of the entry's DN" in text
    assert_kept_and_audited("login", "ann2", "uid", "refused")
    assert directory_values(corp, "uid") == [b"ann"]


def test_transient_answers_are_pending_and_unknown_ones_refused():
    """busy, unavailable, limits, OTHER: pending (retried); a result code nobody listed:
    refused with the directory's message. Never a raw ldap exception."""
    def answer(cls, info: str = ""):
        return ldap_write_error(cls({"desc": cls.__name__, "info": info}), "title", ANN_DN)

    for cls in (ldap.BUSY, ldap.UNAVAILABLE, ldap.ADMINLIMIT_EXCEEDED, ldap.TIMELIMIT_EXCEEDED,
                ldap.OTHER, ldap.LOOP_DETECT):
        assert isinstance(answer(cls), DirectoryBusy) and outcome_of(answer(cls)) == "pending"
    for cls in (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR):
        assert isinstance(answer(cls), DirectoryUnreachable)
        assert outcome_of(answer(cls)) == "pending"
    odd = answer(ldap.AFFECTS_MULTIPLE_DSAS, "cannot")
    assert isinstance(odd, WriteRefused) and outcome_of(odd) == "refused"
    assert "AFFECTS_MULTIPLE_DSAS: cannot" in str(odd)


# -- conflicts: the value changed between opening the dialog and saving -----------

def test_value_added_or_removed_between_open_and_save(corp, acl_server):
    """Added meanwhile: the person's change is written and the added value stays. Removed
    meanwhile (the value they changed is gone): a conflict with both values, on the page
    and in the API; nothing is written. (`profile set` reads right before it writes.)"""
    people = Surfaces()
    form = people.open_dialog()
    admin = acl_server.connect()
    admin.modify_s(ANN_DN, [(ldap.MOD_ADD, "telephoneNumber", [b"+49 30 5555"])])
    added = people.web("phone", "+49 30 2222", form)
    form = people.open_dialog()
    shown = json.loads(form["seen-phone"])  # the first of the two values
    other = ({"+49 30 2222", "+49 30 5555"} - {shown}).pop()
    admin.modify_s(ANN_DN, [(ldap.MOD_DELETE, "telephoneNumber", [shown.encode()])])
    admin.unbind_s()
    web_conflict = people.web("phone", "+49 30 3333", form)
    api_conflict = people.api("phone", "+49 30 4444", seen=shown)

    assert added[0] == "written"
    assert directory_values(corp, "telephoneNumber") == [other.encode()]
    assert web_conflict[0] == "conflict" and other in web_conflict[1]
    assert api_conflict[0] == "conflict"
    assert json.loads(api_conflict[1])["conflicts"]["phone"] == {
        "yours": "+49 30 4444", "directory": other}
    assert [a.result for a in WriteAudit.objects.order_by("id")] == [
        "written", "conflict", "conflict"]


# -- slapd stopped in the middle of the write -------------------------------------

@pytest.mark.parametrize("cut", ["before", "after"],
                         ids=["request never arrives", "answer never arrives"])
@pytest.mark.parametrize("surface", SURFACES)
def test_slapd_stopped_mid_write(corp, acl_server, surface, cut):
    """slapd stops while the modify is in flight (before the server got it, or after it
    applied it but before the answer came back): the edit is kept pending, "retried every
    5 minutes"; once slapd is back the retry writes it, or finds it already written."""
    people = Surfaces()
    relay = WriteCutRelay("127.0.0.1", acl_server.port, cut=cut, on_modify=acl_server.stop)
    with relay:
        Directory.objects.filter(pk=corp.pk).update(urls=[relay.uri])
        outcome, text = people.save(surface, "phone", "+49 30 2222")
        assert relay.done.wait(timeout=30) and relay.modifies == 1
    Directory.objects.filter(pk=corp.pk).update(urls=[acl_server.ldap_uri])
    acl_server.start()

    assert outcome == "pending" and "kept pending; retried every 5 minutes" in text
    assert_kept_and_audited("phone", "+49 30 2222", "telephoneNumber", "pending")
    assert WriteAudit.objects.get(result="pending").old_value == "+49 30 1111"
    PendingWrite.objects.update(next_attempt_at=timezone.now())
    assert retry_due_writes().written == 1
    assert directory_values(corp, "telephoneNumber") == [b"+49 30 2222"]
    last = WriteAudit.objects.latest("id")
    assert last.result == "written" and last.method == (
        "already in the directory" if cut == "after" else "value-delta")


# -- the entry changed while an edit waited ----------------------------------------

def pend_phone(corp, acl_server) -> Profile:
    """Ann's phone edit saved while the directory was down; due now."""
    ann = Profile.objects.get(directory=corp, username="ann")
    acl_server.stop()
    assert "phone" in apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222",
                                                        "+49 30 1111")]).pending
    acl_server.start()
    PendingWrite.objects.update(next_attempt_at=timezone.now())
    return ann


def shown_everywhere(people: Surfaces) -> tuple[list[dict], list[dict], str]:
    """What the CLI (`writeback pending --json`), the API (`GET /people/me`) and the
    profile page show of open write-backs."""
    out = StringIO()
    call_command("writeback", "pending", "--json", stdout=out)
    if not people.token:
        people.api("title", "Engineer")  # makes the token; title unchanged: no write
    me = Client().get("/api/v1/people/me", headers={"Authorization": f"Bearer {people.token}"})
    ann = Profile.objects.get(username="ann")
    page = html.unescape(people.client.get(f"/people/{ann.pk}/").content.decode())
    return json.loads(out.getvalue()), me.json()["pending"], page


def test_entry_renamed_while_pending_is_followed(corp, acl_server):
    """Ann's entry moved (new RDN) while her edit waited: the retry finds it by entryUUID,
    writes there, and the profile's DN follows."""
    people = Surfaces()
    ann = pend_phone(corp, acl_server)
    acl_server.rename(ANN_DN, "cn=Ann Archer")
    moved = "cn=Ann Archer,ou=people,dc=example,dc=org"

    assert retry_due_writes().written == 1

    assert directory_values(corp, "telephoneNumber", moved) == [b"+49 30 2222"]
    assert Profile.objects.get(pk=ann.pk).dn == moved
    cli, api, page = shown_everywhere(people)
    assert cli == [] and api == [] and "Not yet in the directory" not in page


def test_entry_deleted_while_pending(corp, acl_server):
    """Ann's entry was deleted while her edit waited: the row ends, saying why, on the CLI,
    in the API and on her profile page."""
    people = Surfaces()
    pend_phone(corp, acl_server)
    acl_server.delete(ANN_DN)

    assert retry_due_writes().ended == 1

    cli, api, page = shown_everywhere(people)
    reason = "the person's entry is gone from the directory"
    assert cli[0]["state"] == "ended" and reason in cli[0]["message"]
    assert api[0]["state"] == "ended" and reason in api[0]["message"]
    assert "ended" in page and reason in page


def test_dn_reused_by_a_new_entry(corp, acl_server):
    """Ann's entry was deleted and someone new got her DN, without a phone number (so an
    "absent" check alone would pass): nothing is written to the newcomer."""
    people = Surfaces()
    pend_phone(corp, acl_server)
    acl_server.delete(ANN_DN)
    acl_server.add(ANN_DN, {"objectClass": ["inetOrgPerson"], "uid": ["ann"], "cn": ["New Ann"],
                            "sn": ["N"], "userPassword": ["ann-pw-1"]})

    assert retry_due_writes().ended == 1

    assert directory_values(corp, "telephoneNumber") == []
    cli, api, _page = shown_everywhere(people)
    assert "holds another person's entry" in cli[0]["message"] == api[0]["message"]
