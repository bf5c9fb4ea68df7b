"""The retry queue cannot be poisoned: each row on its own, claimed once, checked against the
present, and visible to operators (`profilesync writeback pending|retry`).

Against a real slapd (the ACL server: cn=sync may write everything but ``title``).
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.modify import read_values
from profilesync.profiles.models import FieldType, Profile, ProfileField
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync
from profilesync.testing.writeback_profile import synced_with_write_back
from profilesync.writeback.models import PendingStatus, PendingWrite, WriteAudit
from profilesync.writeback.retry import claim, retry_due_writes
from profilesync.writeback.service import FieldEdit, apply_edit

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"


@pytest.fixture
def ann(acl_directory):
    """Ann's profile, synced, with write-back on globally and for phone and display name."""
    return synced_with_write_back(acl_directory, "ann", ("phone", "display_name"))


def pend(ann, acl_server, *edits: FieldEdit) -> None:
    """Save ``edits`` while the directory is down, then bring it back and make them due."""
    acl_server.stop()
    outcome = apply_edit(ann, "ann", list(edits))
    assert set(outcome.pending) == {e.key for e in edits}, outcome
    acl_server.start()
    PendingWrite.objects.update(next_attempt_at=timezone.now())


def directory_value(directory, attribute: str, dn: str = ANN_DN) -> list[bytes]:
    with connected(directory.connection_settings()) as conn:
        return sorted(read_values(conn, dn, attribute))


def row(key: str) -> PendingWrite:
    return PendingWrite.objects.exclude(status=PendingStatus.SUPERSEDED).get(field_key=key)


@pytest.mark.django_db
def test_one_bad_row_never_blocks_the_others(ann, acl_directory, acl_server):
    """A field deleted and a field whose type changed while their edits waited: those rows end
    with the reason, and the phone number behind them is still written."""
    ProfileField.objects.create(key="room", label="Room", ldap_attribute="roomNumber",
                                write_back=True)
    ProfileField.objects.create(key="motto", label="Motto", ldap_attribute="description",
                                write_back=True)
    pend(ann, acl_server, FieldEdit("room", "B 12", ""), FieldEdit("motto", "Go", ""),
         FieldEdit("phone", "+49 30 2222", "+49 30 1111"))
    ProfileField.objects.filter(key="room").delete()
    ProfileField.objects.filter(key="motto").update(type=FieldType.MULTISELECT, options=["Go"])

    counts = retry_due_writes()

    assert (counts.written, counts.ended) == (1, 2)
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 2222"]
    assert row("room").status == PendingStatus.ENDED and "was deleted" in row("room").reason
    assert "type changed from text to multiselect" in row("motto").reason
    assert directory_value(acl_directory, "roomNumber") == []


@pytest.mark.django_db
def test_a_row_that_cannot_be_written_now_is_recorded_and_the_next_directory_goes_on(
        ann, acl_directory, acl_server, subtree, make_directory):
    """The first directory's stored password cannot be decrypted: its row records why and
    waits (an administrator re-enters the password; the edit is not lost); a row for
    another directory is written in the same pass."""
    subtree.add_person("zed", telephoneNumber="+1 555 0100")
    other = make_directory(subtree, name="other")
    run_sync([other])
    zed = Profile.objects.get(directory=other, username="zed")
    pend(ann, acl_server, FieldEdit("phone", "+49 30 2222", "+49 30 1111"))
    PendingWrite.objects.create(profile=zed, field_key="phone", field_type="phone",
                                attribute="telephoneNumber", value="+1 555 0199",
                                expected="+1 555 0100", attempts=1,
                                next_attempt_at=timezone.now())
    Directory.objects.filter(pk=acl_directory.pk).update(bind_password_encrypted="garbage")

    counts = retry_due_writes()

    assert (counts.written, counts.still_pending) == (1, 1)
    stuck = PendingWrite.objects.get(profile=ann, status=PendingStatus.PENDING)
    assert "cannot be decrypted" in stuck.reason and stuck.attempts == 2
    assert stuck.next_attempt_at > timezone.now()
    assert directory_value(other, "telephoneNumber", zed.dn) == [b"+1 555 0199"]


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "reason"), [
    (lambda: set_setting("writeback_enabled", "off"), "write-back to the directory was turned off"),
    (lambda: update_field(ProfileField.objects.get(key="phone"), {"write_back": False}),
     "write-back is not enabled for this field"),
    (lambda: Profile.objects.update(active=False), "profile was deactivated"),
], ids=["global switch off", "field write-back off", "profile deactivated"])
def test_retry_rechecks_the_present_before_writing(ann, acl_directory, acl_server, change,
                                                   reason):
    """What changed while the edit waited decides: the row ends with the reason, visible to
    the person, and the directory is not written."""
    pend(ann, acl_server, FieldEdit("phone", "+49 30 2222", "+49 30 1111"))
    change()

    assert retry_due_writes().ended == 1

    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 1111"]
    pending = row("phone")
    assert pending.status == PendingStatus.ENDED and reason in pending.reason
    assert not WriteAudit.objects.filter(result="written").exists()


@pytest.mark.django_db
def test_successful_retry_saves_only_that_field(ann, acl_directory, acl_server):
    """A sync changed Ann's title while her phone edit waited: the retry stores the phone and
    leaves the title the sync stored."""
    pend(ann, acl_server, FieldEdit("phone", "+49 30 2222", "+49 30 1111"))
    stored = Profile.objects.get(pk=ann.pk)
    stored.values["title"] = "Chief Engineer"
    stored.save(update_fields=["values"])

    assert retry_due_writes().written == 1

    fresh = Profile.objects.get(pk=ann.pk)
    assert (fresh.values["phone"], fresh.values["title"]) == ("+49 30 2222", "Chief Engineer")


@pytest.mark.django_db
def test_a_claimed_row_is_not_claimed_again():
    """The claim is one conditional UPDATE: the second claim of a due row gets nothing."""
    from profilesync.directories.services import create_directory

    directory = create_directory("solo", {"urls": ["ldap://127.0.0.1:1"], "base_dn": "dc=x"})
    profile = Profile.objects.create(directory=directory, unique_id="u1", username="u1",
                                     dn="uid=u1,dc=x", display_name="U")
    pending = PendingWrite.objects.create(profile=profile, field_key="phone", attribute="x",
                                          value="1", next_attempt_at=timezone.now())
    now = timezone.now()

    assert claim(pending.pk, now) is not None
    assert claim(pending.pk, now) is None


@pytest.mark.django_db(transaction=True)
def test_two_overlapping_retry_runs_write_each_row_once(ann, acl_directory, acl_server, race):
    """Two workers run the retry pass at the same moment: the row is written once, audited
    once."""
    pend(ann, acl_server, FieldEdit("phone", "+49 30 2222", "+49 30 1111"))

    results = race(2, retry_due_writes)

    assert sum(r.written for r in results) == 1
    assert WriteAudit.objects.filter(result="written").count() == 1
    assert row("phone").status == PendingStatus.DONE


@pytest.mark.django_db
def test_operators_list_and_retry_the_queue_from_the_command_line(ann, acl_directory,
                                                                 acl_server):
    """`writeback pending --json` lists the row with its state; `writeback retry --json`
    writes it and prints the outcome; both exit 0."""
    pend(ann, acl_server, FieldEdit("phone", "+49 30 2222", "+49 30 1111"))
    out = StringIO()
    call_command("writeback", "pending", "--json", stdout=out)
    (listed,) = json.loads(out.getvalue())
    retried = StringIO()
    call_command("writeback", "retry", "--json", stdout=retried)
    (outcome,) = json.loads(retried.getvalue())
    after = StringIO()
    call_command("writeback", "pending", stdout=after)

    assert set(listed) == {"username", "directory", "field", "value", "state", "attempts",
                           "next_try_at", "message"}
    assert (listed["username"], listed["directory"], listed["field"], listed["value"],
            listed["state"], listed["attempts"]) == ("ann", "corp", "phone", "+49 30 2222",
                                                     "pending", 1)
    assert "no LDAP server answered" in listed["message"]
    assert (outcome["field"], outcome["outcome"]) == ("phone", "written")
    assert "no pending write-backs" in after.getvalue()
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 2222"]


@pytest.mark.django_db
def test_retry_command_exits_0_while_rows_stay_pending(ann, acl_directory, acl_server):
    """The directory is still down: the row stays pending, and that is not a failure."""
    pend(ann, acl_server, FieldEdit("phone", "+49 30 2222", "+49 30 1111"))
    acl_server.stop()
    out = StringIO()

    call_command("writeback", "retry", stdout=out)

    assert "phone: pending: " in out.getvalue() and "still pending 1" in out.getvalue()
    assert row("phone").attempts == 2


@pytest.mark.django_db
def test_a_corrupt_row_that_raises_is_recorded_and_the_queue_goes_on(ann, acl_directory,
                                                                    acl_server):
    """A picture row whose stored value is not a picture name (a bug, or a hand-edited
    database) raises inside the retry: that row records the error and backs off, and the
    phone number queued behind it is written."""
    update_field(ProfileField.objects.get(key="picture"), {"write_back": True})
    PendingWrite.objects.create(profile=ann, field_key="picture", field_type="picture",
                                attribute="jpegPhoto", value=12345, attempts=1,
                                next_attempt_at=timezone.now())
    pend(ann, acl_server, FieldEdit("phone", "+49 30 2222", "+49 30 1111"))

    counts = retry_due_writes()

    assert [r.pending.field_key for r in counts.rows] == ["picture", "phone"]
    assert (counts.written, counts.still_pending) == (1, 1)
    broken = row("picture")
    assert broken.status == PendingStatus.PENDING and "the retry failed" in broken.reason
    assert broken.attempts == 2 and broken.claim_token == ""
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 2222"]
