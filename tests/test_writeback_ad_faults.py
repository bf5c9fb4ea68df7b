"""Write-back to Active Directory (a real Samba DC): exact values, and every answer's outcome.

AD has no assertion control: every write is a value delta (delete the values the
person removed, add the ones they added, in one modify), which AD applies
atomically and refuses when a removed value is already gone.
"""

from __future__ import annotations

import ldap
import pytest

from profilesync.profiles.models import FieldType, Profile, ProfileField
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.writeback.models import PendingStatus, PendingWrite, WriteAudit
from profilesync.writeback.service import FieldEdit, apply_edit

pytestmark = pytest.mark.django_db


@pytest.fixture
def ad_person(ad_ou, ad_directory, sync_directory):
    """``make(**attributes)``: Ann in AD, synced, write-back on for phone, title, skills."""

    def make(**attributes) -> tuple[Profile, str]:
        dn = ad_ou.add_user("ann", **attributes)
        directory = ad_directory(ad_ou)
        ProfileField.objects.create(key="other_phones", label="Other phones",
                                    type=FieldType.MULTISELECT,
                                    options=["+49 30 1111", "+49 30 2222", "+49 30 5555"],
                                    ldap_attribute="otherTelephone", write_back=True)
        sync_directory(directory)
        set_setting("writeback_enabled", "on")
        for key in ("phone", "title"):
            update_field(ProfileField.objects.get(key=key), {"write_back": True})
        return Profile.objects.get(directory=directory, username="ann"), dn

    return make


def test_multi_valued_field_is_written_to_ad_and_keeps_a_value_added_meanwhile(ad_person, ad_ou):
    """A multi-valued field can be saved on AD (no assertion control), removing and adding
    only what the person changed; a value an administrator added meanwhile stays."""
    profile, dn = ad_person(otherTelephone=["+49 30 1111", "+49 30 2222"])
    with ad_ou.dc.admin() as conn:
        conn.modify_s(dn, [(ldap.MOD_ADD, "otherTelephone", [b"+49 30 9999"])])

    outcome = apply_edit(profile, "ann", [FieldEdit(
        "other_phones", ["+49 30 1111", "+49 30 5555"], ["+49 30 1111", "+49 30 2222"])])

    assert outcome.written == ["other_phones"], outcome
    assert sorted(ad_ou.read(dn, "otherTelephone")["otherTelephone"]) == [
        b"+49 30 1111", b"+49 30 5555", b"+49 30 9999"]
    assert WriteAudit.objects.get().method == "value-delta"


def test_value_removed_in_ad_meanwhile_is_a_conflict(ad_person, ad_ou):
    """The value the person removes is already gone: AD refuses the whole modify, nothing is
    written and the person sees what AD holds now."""
    profile, dn = ad_person(otherTelephone=["+49 30 1111", "+49 30 2222"])
    ad_ou.modify(dn, otherTelephone=["+49 30 1111"])

    outcome = apply_edit(profile, "ann", [FieldEdit(
        "other_phones", ["+49 30 5555"], ["+49 30 1111", "+49 30 2222"])])

    assert outcome.conflicts == {"other_phones": (["+49 30 5555"], ["+49 30 1111"])}
    assert ad_ou.read(dn, "otherTelephone")["otherTelephone"] == [b"+49 30 1111"]


def test_ad_refusal_is_kept_refused_with_the_directorys_message(ad_person, ad_ou):
    """A value AD's schema refuses (a phone number over 64 characters) is refused, kept and
    audited; the page, API and CLI all read this outcome."""
    profile, dn = ad_person(telephoneNumber="+49 30 1111")

    outcome = apply_edit(profile, "ann", [FieldEdit("phone", "+49 " + "1" * 70, "+49 30 1111")])

    assert "phone" in outcome.refused, outcome
    row = PendingWrite.objects.get()
    assert row.status == PendingStatus.REFUSED and row.value.startswith("+49 111")
    assert WriteAudit.objects.get().result == "refused"
    assert ad_ou.read(dn, "telephoneNumber")["telephoneNumber"] == [b"+49 30 1111"]


def test_field_mapped_to_the_rdn_attribute_is_refused_on_ad(ad_person, ad_ou):
    """cn is the RDN of an AD user: a modify may not change it; refused with what to do."""
    profile, dn = ad_person(telephoneNumber="+49 30 1111")
    ProfileField.objects.create(key="common", label="Common name", ldap_attribute="cn",
                                write_back=True)

    outcome = apply_edit(profile, "ann", [FieldEdit("common", "ann2", "ann")])

    assert "part of the entry's name (its RDN)" in outcome.refused["common"], outcome
    assert ad_ou.read(dn, "cn")["cn"] == [b"ann"]


def test_attribute_a_user_may_not_have_is_refused_on_ad(ad_person, ad_ou):
    """gPLink belongs to OUs, not users: AD refuses it; the message names the object classes."""
    profile, dn = ad_person(telephoneNumber="+49 30 1111")
    ProfileField.objects.create(key="gp", label="GP", ldap_attribute="gPLink", write_back=True)

    outcome = apply_edit(profile, "ann", [FieldEdit("gp", "[LDAP://x;0]", "")])

    assert "gp" in outcome.refused, outcome
    assert "check the field's LDAP attribute" in outcome.refused["gp"]
    assert "gPLink" not in ad_ou.read(dn, "gPLink")


def pending_phone(profile: Profile) -> PendingWrite:
    """The row a save leaves when AD cannot be reached, due now."""
    from django.utils import timezone

    return PendingWrite.objects.create(
        profile=profile, field_key="phone", field_type="phone", attribute="telephoneNumber",
        value="+49 30 2222", expected="+49 30 1111", attempts=1, next_attempt_at=timezone.now())


def test_entry_moved_in_ad_while_pending_is_followed_by_its_object_guid(ad_person, ad_ou):
    """Ann's AD entry was renamed while her edit waited: the retry finds it by objectGUID,
    writes there, and her profile's DN follows."""
    from profilesync.writeback.retry import retry_due_writes

    profile, dn = ad_person(telephoneNumber="+49 30 1111")
    pending_phone(profile)
    moved = ad_ou.rename(dn, "CN=Ann Archer")

    assert retry_due_writes().written == 1

    assert ad_ou.read(moved, "telephoneNumber")["telephoneNumber"] == [b"+49 30 2222"]
    assert Profile.objects.get(pk=profile.pk).dn.lower() == moved.lower()


def test_entry_deleted_in_ad_while_pending_ends_the_row(ad_person, ad_ou):
    """Ann's AD entry was deleted while her edit waited: the row ends with the reason."""
    from profilesync.writeback.retry import retry_due_writes

    profile, dn = ad_person(telephoneNumber="+49 30 1111")
    pending_phone(profile)
    ad_ou.dc.delete(dn)

    assert retry_due_writes().ended == 1

    row = PendingWrite.objects.get()
    assert row.status == PendingStatus.ENDED and "gone from the directory" in row.reason
