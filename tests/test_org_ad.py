"""Managers from Active Directory (real Samba DC) and writing a manager back, on AD and slapd.

AD keeps ``manager`` pointing at the right DN when the manager is renamed (a
linked attribute), so a rename needs nothing of the directory's administrator.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.reporting_lines import direct_reports, manager_of
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import RunStatus
from profilesync.writeback.service import FieldEdit, apply_edit

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer():
    return get_user_model().objects.create_user("viewer", password="pw-for-viewer-1")


def by_name(directory) -> dict[str, Profile]:
    return {p.username: p for p in Profile.objects.filter(directory=directory)}


def test_ad_managers_across_pages_and_renames(ad_ou, ad_directory, sync_directory, viewer):
    """Reports come before their manager (page size 2); a renamed manager stays their manager."""
    boss = ad_ou.add_user("zboss", displayName="Zoe Boss", title="Head")
    for sam in ("amy", "ben", "cat"):
        ad_ou.add_user(sam, manager=boss)
    # AD refuses a manager that does not exist: this one is outside the synced OU=people.
    outsider = ad_ou.add_user("ghost", parent_dn=ad_ou.dn)
    ad_ou.add_user("dan", manager=outsider)
    directory = ad_directory(ad_ou, page_size=2)

    result = sync_directory(directory)
    assert result.status == RunStatus.SUCCEEDED, result.errors
    people = by_name(directory)
    assert {r.person.pk for r in direct_reports(people["zboss"], viewer)} == {
        people["amy"].pk, people["ben"].pk, people["cat"].pk}
    missing = manager_of(people["dan"], viewer)
    assert missing.person is None and missing.dn.lower() == outsider.lower()

    ad_ou.rename(boss, "CN=Zoe Renamed")
    assert sync_directory(directory).status == RunStatus.SUCCEEDED
    people = by_name(directory)
    assert manager_of(people["amy"], viewer).person.pk == people["zboss"].pk
    assert "zoe renamed" in manager_of(people["amy"], viewer).dn.lower()


def _manager_writeback_on() -> None:
    set_setting("writeback_enabled", "on")
    update_field(ProfileField.objects.get(key="manager"), {"write_back": True})


def test_manager_written_back_to_ad_as_a_dn(ad_ou, ad_directory, sync_directory, viewer):
    old = ad_ou.add_user("old", displayName="Old Boss")
    new = ad_ou.add_user("new", displayName="New Boss")
    amy = ad_ou.add_user("amy", manager=old)
    directory = ad_directory(ad_ou)
    sync_directory(directory)
    _manager_writeback_on()
    profile = by_name(directory)["amy"]
    seen = profile.values["manager"]

    outcome = apply_edit(profile, "admin", [FieldEdit("manager", new, seen)])

    assert outcome.ok and outcome.written == ["manager"], outcome
    assert ad_ou.read(amy, "manager")["manager"][0].decode().lower() == new.lower()
    # The reporting line follows at once, before the next sync.
    assert manager_of(by_name(directory)["amy"], viewer).person.name == "New Boss"


def test_manager_written_back_to_openldap_as_a_dn(subtree, make_directory, sync_directory,
                                                  viewer):
    old = subtree.add_person("old", displayName="Old Boss")
    new = subtree.add_person("new", displayName="New Boss")
    amy = subtree.add_person("amy", manager=old)
    directory = make_directory(subtree)
    sync_directory(directory)
    _manager_writeback_on()
    profile = by_name(directory)["amy"]

    outcome = apply_edit(profile, "admin", [FieldEdit("manager", new, old)])

    assert outcome.ok and outcome.written == ["manager"], outcome
    stored = subtree.conn.search_s(amy, 0, attrlist=["manager"])[0][1]["manager"]
    assert stored == [new.encode()]
    assert manager_of(by_name(directory)["amy"], viewer).person.name == "New Boss"
