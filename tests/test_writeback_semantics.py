"""Exact compare semantics: a write changes only what the person changed, and only where the
directory still holds what they saw (docs/architecture.md, "Write-back: modifications").

Against a real slapd whose service account may write everything but ``title``.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.modify import read_values
from profilesync.profiles.models import FieldType, Profile, ProfileField
from profilesync.profiles.pictures import picture_bytes
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync
from profilesync.writeback.models import WriteAudit
from profilesync.writeback.service import FieldEdit, apply_edit

pytestmark = pytest.mark.django_db

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"


def add_values(server, dn: str, attribute: str, *values: bytes) -> None:
    """An administrator's ``ldapmodify`` adding values (never replacing)."""
    import ldap

    conn = server.connect()
    try:
        conn.modify_s(dn, [(ldap.MOD_ADD, attribute, list(values))])
    finally:
        conn.unbind_s()


def values_of(directory, attribute: str) -> list[bytes]:
    with connected(directory.connection_settings()) as conn:
        return sorted(read_values(conn, ANN_DN, attribute))


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 40), color).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def enable(acl_directory):
    """Sync, then switch write-back on globally and for ``keys``; returns Ann's profile."""

    def run(*keys: str) -> Profile:
        run_sync([acl_directory])
        set_setting("writeback_enabled", "on")
        for key in keys:
            update_field(ProfileField.objects.get(key=key), {"write_back": True})
        return Profile.objects.get(directory=acl_directory, username="ann")

    return run


def test_value_added_in_the_directory_meanwhile_survives_the_persons_save(
        enable, acl_directory, acl_server):
    """Ann sees +49 30 1111; an administrator adds +49 30 5555; Ann saves +49 30 2222: her
    number replaces the one she saw and the administrator's stays."""
    ann = enable("phone")
    add_values(acl_server, ANN_DN, "telephoneNumber", b"+49 30 5555")

    outcome = apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])

    assert outcome.written == ["phone"]
    assert values_of(acl_directory, "telephoneNumber") == [b"+49 30 2222", b"+49 30 5555"]
    assert WriteAudit.objects.get().method == "value-delta"


def test_text_field_fed_by_a_multi_valued_attribute_changes_only_the_value_shown(
        acl_directory, acl_server, enable):
    """A person with two phone numbers sees the first; changing it leaves the second."""
    add_values(acl_server, ANN_DN, "telephoneNumber", b"+49 30 5555")
    ann = enable("phone")
    shown = ann.values["phone"]
    other = ({"+49 30 1111", "+49 30 5555"} - {shown}).pop()

    apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", shown)])

    assert values_of(acl_directory, "telephoneNumber") == sorted(
        [b"+49 30 2222", other.encode()])


def test_value_removed_in_the_directory_meanwhile_is_a_conflict(enable, acl_directory,
                                                               acl_server):
    """The value Ann changes is gone from the directory: nothing is written, both shown."""
    ann = enable("phone")
    acl_server.modify(ANN_DN, {"telephoneNumber": ["+49 30 7777"]})

    outcome = apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])

    assert outcome.conflicts == {"phone": ("+49 30 2222", "+49 30 7777")}
    assert values_of(acl_directory, "telephoneNumber") == [b"+49 30 7777"]
    assert WriteAudit.objects.get().result == "conflict"


def test_multiselect_deletes_what_was_unticked_and_adds_what_was_ticked(
        acl_directory, acl_server, enable):
    """A multi-select fed by businessCategory: untick one, tick another; a category an
    administrator added meanwhile stays."""
    acl_server.modify(ANN_DN, {"businessCategory": ["Go", "Rust"]})
    ProfileField.objects.create(key="skills", label="Skills", type=FieldType.MULTISELECT,
                                options=["Go", "Rust", "SQL", "Zig"],
                                ldap_attribute="businessCategory")
    ann = enable("skills")
    assert sorted(ann.values["skills"]) == ["Go", "Rust"]
    add_values(acl_server, ANN_DN, "businessCategory", b"Zig")

    outcome = apply_edit(ann, "ann", [FieldEdit("skills", ["Go", "SQL"], ["Go", "Rust"])])

    assert outcome.written == ["skills"]
    assert values_of(acl_directory, "businessCategory") == [b"Go", b"SQL", b"Zig"]


def test_single_valued_attribute_is_asserted_on_the_value_seen(enable, acl_directory,
                                                              acl_server):
    """displayName is single-valued: the write asserts the seen value; changed meanwhile,
    it is a conflict."""
    ann = enable("display_name")
    written = apply_edit(ann, "ann", [FieldEdit("display_name", "Ann B.", "Ann Archer")])
    acl_server.modify(ANN_DN, {"displayName": ["Ann by the admin"]})
    conflict = apply_edit(ann, "ann", [FieldEdit("display_name", "Ann C.", "Ann B.")])

    assert written.written == ["display_name"]
    assert WriteAudit.objects.order_by("id").first().method == "assertion"
    assert conflict.conflicts == {"display_name": ("Ann C.", "Ann by the admin")}
    assert values_of(acl_directory, "displayName") == [b"Ann by the admin"]


def test_picture_without_equality_rule_asserts_the_entry_and_ignores_other_changes(
        enable, acl_directory, acl_server):
    """jpegPhoto has no equality rule: the write asserts the entry's entryCSN read with the
    photo. A change of another attribute meanwhile does not block it; a new photo does."""
    acl_server.modify(ANN_DN, {"jpegPhoto": [jpeg("red")]})
    ann = enable("picture")
    seen = picture_bytes(ann.picture)
    acl_server.modify(ANN_DN, {"description": ["changed by the admin"]})

    first = apply_edit(ann, "ann", [FieldEdit("picture", jpeg("blue"), seen)])
    after_first = values_of(acl_directory, "jpegPhoto")
    acl_server.modify(ANN_DN, {"jpegPhoto": [jpeg("green")]})
    second = apply_edit(ann, "ann", [FieldEdit("picture", jpeg("white"), after_first[0])])

    assert first.written == ["picture"] and after_first != [seen]
    first_audit = WriteAudit.objects.order_by("id").first()
    assert first_audit.method == "entry-assertion"
    assert first_audit.old_value.startswith("sha256:") and first_audit.new_value.startswith(
        "sha256:")  # pictures are audited by hash, never as bytes
    assert "picture" in second.conflicts
    assert values_of(acl_directory, "jpegPhoto") == [jpeg("green")]
    assert isinstance(second.conflicts["picture"][1], str)  # a stored picture's name
