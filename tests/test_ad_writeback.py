"""Write-back to Active Directory, against a real Samba DC.

AD has no assertion control, so every write is a value delta (delete the value
the person saw, add theirs, in one modify), which AD refuses if the value is gone. Pictures go to
``thumbnailPhoto``, which AD caps at 100 KB.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.pictures import picture_bytes
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.writeback.models import WriteAudit
from profilesync.writeback.service import FieldEdit, apply_edit

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(ad_ou, ad_directory, sync_directory):
    """Ann in AD (phone, title), synced, write-back on globally and for phone, title, picture.

    Returns (profile, DN).
    """
    dn = ad_ou.add_user("ann", telephoneNumber="+49 30 1111", title="Engineer")
    directory = ad_directory(ad_ou)
    sync_directory(directory)
    set_setting("writeback_enabled", "on")
    for key in ("phone", "title", "picture"):
        update_field(ProfileField.objects.get(key=key), {"write_back": True})
    return Profile.objects.get(directory=directory, username="ann"), dn


def test_phone_number_is_written_to_ad_by_compare_then_write(ann, ad_ou):
    """A new phone number reaches Ann's AD entry; the audit says how it was made safe."""
    profile, dn = ann

    outcome = apply_edit(profile, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])

    assert outcome.ok and outcome.written == ["phone"]
    assert ad_ou.read(dn, "telephoneNumber")["telephoneNumber"] == [b"+49 30 2222"]
    assert WriteAudit.objects.get().method == "value-delta"


def test_title_changed_in_ad_meanwhile_is_a_conflict_and_nothing_is_overwritten(ann, ad_ou):
    """When someone changed the title in AD after Ann opened the dialog, her save writes
    nothing and she is shown both values."""
    profile, dn = ann
    ad_ou.modify(dn, title="Principal Engineer")

    outcome = apply_edit(profile, "ann", [FieldEdit("title", "Team Lead", "Engineer")])

    assert outcome.conflicts == {"title": ("Team Lead", "Principal Engineer")}
    assert ad_ou.read(dn, "title")["title"] == [b"Principal Engineer"]


def test_cleared_field_removes_the_attribute_in_ad(ann, ad_ou):
    profile, dn = ann

    apply_edit(profile, "ann", [FieldEdit("phone", "", "+49 30 1111")])

    assert "telephoneNumber" not in ad_ou.read(dn, "telephoneNumber")


def test_large_picture_is_written_as_a_thumbnail_photo_under_100_kb(ann, ad_ou):
    """A 1,600 px photo is re-encoded to fit thumbnailPhoto; AD then holds exactly what
    the profile shows."""
    profile, dn = ann
    big = io.BytesIO()
    Image.effect_noise((1600, 1600), 80).convert("RGB").save(big, "PNG")
    assert len(big.getvalue()) > 100 * 1024

    outcome = apply_edit(profile, "ann", [FieldEdit("picture", big.getvalue(), None)])

    assert outcome.written == ["picture"], outcome
    (stored,) = ad_ou.read(dn, "thumbnailPhoto")["thumbnailPhoto"]
    assert len(stored) <= 100 * 1024
    assert Image.open(io.BytesIO(stored)).format == "JPEG"
    profile.refresh_from_db()
    assert picture_bytes(profile.picture) == stored


def test_picture_changed_in_ad_meanwhile_is_a_conflict(ann, ad_ou):
    """Pictures are compared byte for byte before the write: a newer one in AD stays."""
    profile, dn = ann
    theirs = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(theirs, "JPEG")
    ad_ou.modify(dn, thumbnailPhoto=theirs.getvalue())
    mine = io.BytesIO()
    Image.new("RGB", (64, 64), "blue").save(mine, "PNG")

    outcome = apply_edit(profile, "ann", [FieldEdit("picture", mine.getvalue(), None)])

    assert "picture" in outcome.conflicts
    assert ad_ou.read(dn, "thumbnailPhoto")["thumbnailPhoto"] == [theirs.getvalue()]
