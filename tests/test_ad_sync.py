"""Full sync from Active Directory, against a real Samba AD domain controller.

What an administrator with an AD notices: people keep their profile when
renamed (identity is objectGUID), AD's attribute names feed the default fields,
and disabled accounts are deactivated and come back when enabled again.
"""

from __future__ import annotations

import uuid

import pytest

from profilesync.demo.people import make_photo
from profilesync.profiles.pictures import picture_bytes
from profilesync.sync.models import RunStatus
from profilesync.testing.samba import DISABLED_ACCOUNT, ENABLED_ACCOUNT

pytestmark = pytest.mark.django_db


def test_full_sync_imports_ad_users_with_their_details(ad_ou, ad_directory, sync_directory, profiles):
    """Each AD user gets a profile keyed by objectGUID, with phone, title and department."""
    ann_dn = ad_ou.add_user("ann", displayName="Ann Archer", title="Engineer",
                            department="Research", telephoneNumber="+49 30 1234",
                            mail="ann@example.test")
    ad_ou.add_user("bob", displayName="Bob Baker", title="Accountant")
    directory = ad_directory(ad_ou)

    result = sync_directory(directory)

    assert (result.status, result.created, result.failed) == (RunStatus.SUCCEEDED, 2, 0), result.errors
    ann = profiles(directory)["ann"]
    guid = ad_ou.read(ann_dn, "objectGUID")["objectGUID"][0]
    assert ann.unique_id == str(uuid.UUID(bytes_le=guid))
    assert ann.active
    assert ann.values == {"display_name": "Ann Archer", "title": "Engineer",
                          "department": "Research", "phone": "+49 30 1234",
                          "mail": "ann@example.test"}
    assert profiles(directory)["bob"].values["title"] == "Accountant"


def test_thumbnail_photo_becomes_the_profile_picture(ad_ou, ad_directory, sync_directory, profiles):
    """An AD user's thumbnailPhoto is their profile picture, exactly as AD holds it."""
    photo = make_photo(3)
    ad_ou.add_user("cleo", thumbnailPhoto=photo)
    directory = ad_directory(ad_ou)

    sync_directory(directory)

    assert picture_bytes(profiles(directory)["cleo"].picture) == photo


def test_renamed_and_moved_user_keeps_the_same_profile(ad_ou, ad_directory, sync_directory, profiles):
    """A user renamed (modrdn) and moved to another OU is the same person, not a new one."""
    dn = ad_ou.add_user("dan", title="Engineer")
    directory = ad_directory(ad_ou, user_dn="")  # the whole OU, so a move stays in scope
    sync_directory(directory)
    before = profiles(directory)["dan"]

    elsewhere = ad_ou.dc.add_ou("moved", ad_ou.dn)
    new_dn = ad_ou.rename(dn, "CN=Daniel Dunn", elsewhere)
    result = sync_directory(directory)

    after = profiles(directory)["dan"]
    assert (result.created, result.updated) == (0, 1)
    assert after.pk == before.pk
    assert after.dn.lower() == new_dn.lower()


def test_disabled_account_is_deactivated_and_comes_back_when_enabled(
        ad_ou, ad_directory, sync_directory, profiles):
    """ACCOUNTDISABLE in userAccountControl deactivates the profile; enabling it again reactivates."""
    dn = ad_ou.add_user("eve")
    ad_ou.add_user("fay")
    directory = ad_directory(ad_ou, max_deactivate_percent=100)
    sync_directory(directory)

    ad_ou.modify(dn, userAccountControl=str(DISABLED_ACCOUNT))
    sync_directory(directory)
    assert not profiles(directory)["eve"].active
    assert profiles(directory)["fay"].active

    ad_ou.modify(dn, userAccountControl=str(ENABLED_ACCOUNT))
    sync_directory(directory)
    assert profiles(directory)["eve"].active


def test_user_created_disabled_gets_an_inactive_profile(ad_ou, ad_directory, sync_directory, profiles):
    """A user who is disabled in AD from the start is imported, but not as an active person."""
    ad_ou.add_user("gus", enabled=False)
    directory = ad_directory(ad_ou)

    sync_directory(directory)

    assert not profiles(directory)["gus"].active
