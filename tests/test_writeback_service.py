"""Saving an edit back to the directory: conditional, audited, never lost."""

from __future__ import annotations

import io
from io import StringIO

import pytest
from django.core.management import call_command
from PIL import Image

from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.modify import read_values
from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync
from profilesync.testing.writeback_profile import synced_with_write_back
from profilesync.writeback.encoding import picture_for_attribute, to_ldap_values
from profilesync.writeback.models import PendingStatus, PendingWrite, WriteAudit
from profilesync.writeback.retry import retry_due_writes
from profilesync.writeback.service import FieldEdit, apply_edit

pytestmark = pytest.mark.django_db

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"


@pytest.fixture
def ann(acl_directory):
    """Ann's profile, synced, with write-back on globally and for phone, title and display name."""
    return synced_with_write_back(acl_directory, "ann", ("phone", "title", "display_name"))


def directory_value(directory, attribute: str) -> list[bytes]:
    with connected(directory.connection_settings()) as conn:
        return read_values(conn, ANN_DN, attribute)


def test_saved_phone_number_reaches_the_directory_and_is_audited(ann, acl_directory):
    """A person's new phone number is written to their entry and recorded in the audit log."""
    outcome = apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])

    assert outcome.ok and outcome.written == ["phone"]
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 2222"]
    audit = WriteAudit.objects.get()
    assert (audit.actor, audit.attribute, audit.old_value, audit.new_value, audit.result,
            audit.method) == ("ann", "telephoneNumber", "+49 30 1111", "+49 30 2222",
                              "written", "value-delta")
    ann.refresh_from_db()
    assert ann.values["phone"] == "+49 30 2222"


def test_value_changed_in_the_directory_meanwhile_is_a_conflict_with_both_values(
        ann, acl_directory, acl_server):
    """When the entry changed after the dialog opened, nothing is written and the person is
    shown both values."""
    acl_server.modify(ANN_DN, {"telephoneNumber": ["+49 30 9999"]})

    outcome = apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])

    assert outcome.conflicts == {"phone": ("+49 30 2222", "+49 30 9999")}
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 9999"]
    ann.refresh_from_db()
    assert ann.values["phone"] == "+49 30 9999"  # the profile shows the directory's value
    keep_mine = apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 9999")])
    assert keep_mine.written == ["phone"]
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 2222"]


def test_emptied_field_deletes_the_attribute(ann, acl_directory):
    apply_edit(ann, "ann", [FieldEdit("phone", "", "+49 30 1111")])
    assert directory_value(acl_directory, "telephoneNumber") == []


def test_unchanged_field_writes_nothing(ann, acl_directory):
    """Saving without a change sends no write and logs nothing."""
    outcome = apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 1111", "+49 30 1111")])
    assert outcome.ok and outcome.written == [] and not WriteAudit.objects.exists()


def test_field_without_write_back_or_with_the_switch_off_is_refused(ann, acl_directory):
    """Write-back needs both steps: the global switch and the field's own option."""
    no_field = apply_edit(ann, "ann", [FieldEdit("mail", "x@example.org", "")])
    set_setting("writeback_enabled", "off")
    switch_off = apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])

    assert "not enabled for this field" in no_field.refused["mail"]
    assert "not enabled" in switch_off.refused["phone"]
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 1111"]


def test_insufficient_access_is_kept_and_shown_not_retried(ann, acl_directory):
    """The ACL denies title: the person's value is kept as a refused write with the
    directory's message, audited, and not retried."""
    outcome = apply_edit(ann, "ann", [FieldEdit("title", "Director", "Engineer")])

    assert "insufficient access" in outcome.refused["title"]
    pending = PendingWrite.objects.get(field_key="title")
    assert (pending.status, pending.value) == (PendingStatus.REFUSED, "Director")
    assert WriteAudit.objects.get().result == "refused"
    assert directory_value(acl_directory, "title") == [b"Engineer"]


def test_unreachable_directory_keeps_the_edit_pending_and_the_worker_writes_it_later(
        ann, acl_directory, acl_server, profiles):
    """With the directory down the edit is kept and marked pending; a sync meanwhile does not
    lose it; once the directory is back, the retry writes it."""
    acl_server.stop()
    outcome = apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])
    assert "no LDAP server answered" in outcome.pending["phone"]
    run_sync([acl_directory])  # fails: directory down; nothing changes
    acl_server.start()
    run_sync([acl_directory])  # succeeds; the pending edit is untouched
    pending = PendingWrite.objects.get(field_key="phone")
    assert (pending.status, pending.value) == (PendingStatus.PENDING, "+49 30 2222")

    PendingWrite.objects.update(next_attempt_at=pending.created_at)
    counts = retry_due_writes()

    assert counts.written == 1
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 2222"]
    assert PendingWrite.objects.get(field_key="phone").status == PendingStatus.DONE
    assert [a.result for a in WriteAudit.objects.order_by("id")] == ["pending", "written"]


def test_retry_never_overwrites_a_change_made_while_waiting(ann, acl_directory, acl_server):
    """If the directory changed while the edit waited, the retry writes nothing and says so."""
    acl_server.stop()
    apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])
    acl_server.start()
    acl_server.modify(ANN_DN, {"telephoneNumber": ["+49 30 7777"]})
    PendingWrite.objects.update(next_attempt_at=PendingWrite.objects.get().created_at)

    assert retry_due_writes().refused == 1

    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 7777"]
    pending = PendingWrite.objects.get()
    assert pending.status == PendingStatus.REFUSED and "+49 30 7777" in pending.reason


def test_special_characters_are_written_as_they_are(ann, acl_directory):
    """LDAP filter and DN characters are just characters in a value (the assertion filter
    escapes them), and a value with them can itself be the one a later write asserts."""
    tricky = "Ann *)(uid=*)\\ + , ; \" < > # Ünïcødé"
    first = apply_edit(ann, "ann", [FieldEdit("display_name", tricky, "Ann Archer")])
    again = apply_edit(ann, "ann", [FieldEdit("display_name", "Ann B. Archer", tricky)])

    assert first.written == ["display_name"] and again.written == ["display_name"]
    assert directory_value(acl_directory, "displayName") == [b"Ann B. Archer"]


def test_value_the_directory_rejects_is_refused_with_its_message(ann, acl_directory):
    """A phone number the directory's syntax rejects is refused, saying so, and kept."""
    outcome = apply_edit(ann, "ann", [FieldEdit("phone", "call me (maybe)*", "+49 30 1111")])

    assert "not valid for telephoneNumber's syntax" in outcome.refused["phone"]
    assert "enter a value" in outcome.refused["phone"]
    assert PendingWrite.objects.get().value == "call me (maybe)*"


def test_picture_is_shrunk_to_fit_thumbnail_photo():
    """A large picture is re-encoded as JPEG under AD's 100 KB limit for thumbnailPhoto."""
    noise = Image.effect_noise((1600, 1600), 80).convert("RGB")
    big = io.BytesIO()
    noise.save(big, "PNG")

    jpeg = picture_for_attribute(big.getvalue(), "thumbnailPhoto")

    assert len(big.getvalue()) > 100 * 1024 >= len(jpeg)
    assert Image.open(io.BytesIO(jpeg)).format == "JPEG"


def test_multiselect_is_several_values_and_nul_is_refused():
    assert to_ldap_values("multiselect", ["Go", "Rust"]) == [b"Go", b"Rust"]
    with pytest.raises(ValueError):
        to_ldap_values("text", "a\x00b")


def test_cli_profile_set_applies_the_same_rules(ann, acl_directory):
    """`profilesync profile set` writes like the dialog: 0 when written, 1 with the reason."""
    out = StringIO()
    call_command("profile", "set", "ann", "phone", "+49 30 3333", stdout=out)
    assert "written to the directory" in out.getvalue()
    assert directory_value(acl_directory, "telephoneNumber") == [b"+49 30 3333"]
    err = StringIO()
    with pytest.raises(SystemExit) as refused:
        call_command("profile", "set", "ann", "title", "Boss", stdout=StringIO(), stderr=err)
    assert refused.value.code == 1 and "insufficient access" in err.getvalue()


def test_audit_log_is_for_administrators_and_exports_as_csv(ann, acl_directory, client,
                                                          django_user_model):
    """Administrators see every write attempt and download them; others are refused (403)."""
    from profilesync.accounts.roles import Role, set_role

    apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])
    apply_edit(ann, "ann", [FieldEdit("title", "Director", "Engineer")])
    plain = django_user_model.objects.create_user("plain", password="pw-not-secret-5")
    client.force_login(plain)
    refused = client.get("/admin/write-back/audit")
    staff = django_user_model.objects.create_user("staff", password="pw-not-secret-6")
    set_role(staff, Role.ADMINISTRATOR)
    client.force_login(staff)
    page = client.get("/admin/write-back/audit").content.decode()
    csv_text = b"".join(client.get("/admin/write-back/audit?format=csv").streaming_content
                        ).decode("utf-8-sig")

    assert refused.status_code == 403
    assert "+49 30 2222" in page and "insufficient access" in page and "Director" in page
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("at,actor,profile_username") and len(lines) == 3


def test_audit_export_command_prints_json_lines(ann, acl_directory):
    import json

    apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])
    out = StringIO()
    call_command("audit", "export", stdout=out)
    (row,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (row["attribute"], row["new_value"], row["result"]) == (
        "telephoneNumber", "+49 30 2222", "written")
