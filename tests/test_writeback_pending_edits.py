"""A pending edit is visible where the person edits, and they can replace or withdraw it;
a picture conflict is shown, not a server error; the test panel's write never loses a value.

Against a real slapd (the ACL server: cn=sync may write everything but ``title``).
"""

from __future__ import annotations

import html
import io
import re
from io import StringIO

import ldap
import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from PIL import Image

from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.modify import read_values
from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync
from profilesync.testing.ldif import PEOPLE_OU
from profilesync.testing.slapd import SlapdServer
from profilesync.writeback.models import PendingStatus, PendingWrite
from profilesync.writeback.retry import retry_due_writes
from profilesync.writeback.test_panel import run_test_panel

pytestmark = pytest.mark.django_db

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def ann_client(acl_directory, acl_server):
    """Ann (with a photo) logged in through the login form, CSRF checks on; write-back on
    for phone and picture."""
    acl_server.modify(ANN_DN, {"jpegPhoto": [jpeg("red")]})
    run_sync([acl_directory])
    set_setting("writeback_enabled", "on")
    for key in ("phone", "picture"):
        update_field(ProfileField.objects.get(key=key), {"write_back": True})
    client = Client(enforce_csrf_checks=True)
    page = client.get("/login/").content.decode()
    client.post("/login/", {"username": "ann", "password": "ann-pw-1",
                            "csrfmiddlewaretoken": csrf(page)})
    return client


def csrf(page: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def edit_url() -> str:
    return f"/people/{Profile.objects.get(username='ann').pk}/edit/"


def dialog(client) -> tuple[str, dict[str, str]]:
    page = client.get(edit_url()).content.decode()
    return html.unescape(page), dialog_form(page)


def save_while_down(client, acl_server, phone: str) -> None:
    _page, form = dialog(client)
    acl_server.stop()
    form["phone"] = phone
    assert client.post(edit_url(), form).status_code == 302
    acl_server.start()


def directory_phone(directory) -> list[bytes]:
    with connected(directory.connection_settings()) as conn:
        return read_values(conn, ANN_DN, "telephoneNumber")


def open_row() -> PendingWrite | None:
    return PendingWrite.objects.filter(status=PendingStatus.PENDING).first()


def test_dialog_shows_the_pending_value_with_its_reason(ann_client, acl_server):
    """Reopening the dialog shows Ann's own value, marked as not in the directory yet, with
    the reason and a way to withdraw it."""
    save_while_down(ann_client, acl_server, "+49 30 2222")

    page, form = dialog(ann_client)

    assert form["phone"] == "+49 30 2222"
    assert "Your change is not in the directory yet" in page and "no LDAP server answered" in page
    assert 'name="withdraw-phone"' in page


def test_withdrawing_a_pending_edit_means_it_is_never_written(ann_client, acl_directory,
                                                              acl_server):
    """Ann ticks "Withdraw this change": the row is withdrawn and a later retry writes
    nothing."""
    save_while_down(ann_client, acl_server, "+49 30 2222")
    _page, form = dialog(ann_client)
    form["withdraw-phone"] = "on"
    form["phone"] = "+49 30 1111"

    assert ann_client.post(edit_url(), form).status_code == 302

    assert open_row() is None
    assert PendingWrite.objects.get().status == PendingStatus.WITHDRAWN
    PendingWrite.objects.update(next_attempt_at=timezone.now())
    assert retry_due_writes().written == 0
    assert directory_phone(acl_directory) == [b"+49 30 1111"]


def test_saving_the_directorys_value_again_withdraws_the_pending_edit(ann_client,
                                                                     acl_directory,
                                                                     acl_server):
    """Ann changes her mind and types the old number back: nothing is pending any more."""
    save_while_down(ann_client, acl_server, "+49 30 2222")
    _page, form = dialog(ann_client)
    form["phone"] = "+49 30 1111"

    ann_client.post(edit_url(), form)

    assert open_row() is None
    assert directory_phone(acl_directory) == [b"+49 30 1111"]


def test_saving_another_value_replaces_the_pending_edit(ann_client, acl_directory, acl_server):
    """A second edit while the first waits replaces it; the directory, once back, gets the
    second, checked against what Ann saw before her first."""
    save_while_down(ann_client, acl_server, "+49 30 2222")
    _page, form = dialog(ann_client)
    form["phone"] = "+49 30 3333"

    ann_client.post(edit_url(), form)

    assert open_row() is None  # the directory was back: written at once
    assert directory_phone(acl_directory) == [b"+49 30 3333"]


def test_api_lists_the_pending_edit_and_withdraws_it(ann_client, acl_server):
    """GET /api/v1/people/me shows the pending edit with its state and reason; PATCH with
    "withdraw" takes it back; withdrawing what is not waiting names the field."""
    save_while_down(ann_client, acl_server, "+49 30 2222")
    out = StringIO()
    call_command("token", "create", "ann", "--name", "t", stdout=out)
    auth = {"Authorization": f"Bearer {out.getvalue().strip()}"}
    api = Client(enforce_csrf_checks=True)

    (pending,) = api.get("/api/v1/people/me", headers=auth).json()["pending"]
    wrong = api.patch("/api/v1/people/me", {"withdraw": ["mail"]},
                      content_type="application/json", headers=auth)
    withdrawn = api.patch("/api/v1/people/me", {"withdraw": ["phone"]},
                          content_type="application/json", headers=auth)
    after = api.get("/api/v1/people/me", headers=auth).json()["pending"]

    assert (pending["field"], pending["value"], pending["state"], pending["attempts"]) == (
        "phone", "+49 30 2222", "pending", 1)
    assert "no LDAP server answered" in pending["message"] and pending["next_try_at"]
    assert wrong.status_code == 422 and "mail" in wrong.json()["detail"]
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn"] == ["phone"]
    assert after == []


def test_cli_says_the_edit_is_kept_pending_and_when_it_is_retried(ann_client, acl_server):
    """`profile set` with the directory down: exit 1, "kept pending; retried every 5
    minutes"; `writeback pending` lists it."""
    acl_server.stop()
    err = StringIO()
    with pytest.raises(SystemExit) as failed:
        call_command("profile", "set", "ann", "phone", "+49 30 2222", stdout=StringIO(),
                     stderr=err)
    listed = StringIO()
    call_command("writeback", "pending", stdout=listed)

    assert failed.value.code == 1
    assert "not written yet" in err.getvalue()
    assert "kept pending; retried every 5 minutes" in err.getvalue()
    assert "ann (corp) phone = '+49 30 2222': pending, 1 attempt(s)" in listed.getvalue()


def test_picture_conflict_in_the_dialog_is_shown_not_a_server_error(ann_client, acl_directory,
                                                                    acl_server):
    """The photo changed in the directory after the dialog opened: the page says so (no
    500), the directory keeps its photo, and saving again replaces it with Ann's."""
    _page, form = dialog(ann_client)
    acl_server.modify(ANN_DN, {"jpegPhoto": [jpeg("green")]})
    upload = io.BytesIO(jpeg("blue"))
    upload.name = "me.jpg"

    answer = ann_client.post(edit_url(), {**form, "picture": upload})
    raw = answer.content.decode()
    page = html.unescape(raw)

    assert answer.status_code == 200
    assert "Changed in the directory since you opened this" in page
    assert "a different picture" in page
    with connected(acl_directory.connection_settings()) as conn:
        assert read_values(conn, ANN_DN, "jpegPhoto") == [jpeg("green")]
    again = dialog_form(raw)
    upload.seek(0)
    assert ann_client.post(edit_url(), {**again, "picture": upload}).status_code == 302
    with connected(acl_directory.connection_settings()) as conn:
        assert read_values(conn, ANN_DN, "jpegPhoto") != [jpeg("green")]


def dialog_form(page: str) -> dict[str, str]:
    form = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag and 'type="file"' not in tag:
            form[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return form


# -- the test panel's write step ------------------------------------------------------

@pytest.fixture
def panel_server(tmp_path):
    """A slapd where cn=sync may write ``description`` without reading it, and Ann has a
    ``userCertificate;binary`` and a description."""
    service = "cn=sync,dc=example,dc=org"
    server = SlapdServer(run_dir=tmp_path / "panel-slapd", access=(
        "to attrs=userPassword by self write by anonymous auth by * none",
        f'to attrs=description by dn.exact="{service}" =w by * none',
        f'to * by dn.exact="{service}" write by * read',
    ))
    server.load(
        "dn: cn=sync,dc=example,dc=org\nobjectClass: organizationalRole\n"
        "objectClass: simpleSecurityObject\ncn: sync\nuserPassword: sync-pw\n\n" + PEOPLE_OU
        + "dn: uid=ann,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: ann\n"
          "cn: Ann\nsn: A\ndescription: keep me\nuserCertificate;binary:: MIIBAA==\n\n")
    with server:
        yield server


@pytest.fixture
def panel_directory(panel_server, make_directory):
    directory = make_directory(None, name="panel", urls=[panel_server.ldap_uri],
                               bind_dn="cn=sync,dc=example,dc=org", bind_password="sync-pw",
                               base_dn=panel_server.suffix)
    run_sync([directory])
    return directory


def root_read(server, attribute: str) -> dict:
    conn = server.connect()
    try:
        return conn.search_s(ANN_DN, ldap.SCOPE_BASE, "(objectClass=*)", [attribute])[0][1]
    finally:
        conn.unbind_s()


def test_panel_skips_values_that_come_back_under_another_name(panel_server, panel_directory):
    """userCertificate comes back as userCertificate;binary: writing "userCertificate" with
    nothing would delete it, so the step is skipped and says why; the certificate stays."""
    result = run_test_panel(panel_directory, "ann", "userCertificate")

    last = result.steps[-1]
    assert (last.name, last.ok) == ("write access", False)
    assert "came back as userCertificate;binary" in last.detail
    assert root_read(panel_server, "userCertificate") == {"userCertificate;binary": [b"0\x82\x01\x00"]}


def test_panel_never_deletes_values_it_cannot_read(panel_server, panel_directory):
    """The service account may write description but not read it: the write asserts what it
    read (nothing), the server refuses the assertion, and the description stays."""
    result = run_test_panel(panel_directory, "ann", "description")

    last = result.steps[-1]
    assert (last.name, last.ok) == ("write access", False)
    assert "cannot read" in last.detail
    assert root_read(panel_server, "description") == {"description": [b"keep me"]}
