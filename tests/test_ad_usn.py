"""Incremental sync of Active Directory by uSNChanged, against a real Samba AD DC.

What an administrator notices: after the first full sync, a run reads only the
people changed on the domain controller since the last run (by update sequence
number, not by clock), deleted and disabled accounts are deactivated, enabled
ones come back, a different or restored domain controller makes the run read
everyone and says why, and a failed run moves nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import ldap
import pytest
from django.test.utils import override_settings

from profilesync.directories.services import update_directory
from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.range_retrieval import (
    Slice,
    complete_entry,
    complete_page,
    parse_ranged_name,
)
from profilesync.ldapclient.search import paged_search
from profilesync.ldapclient.usn import DomainControllerIdentity
from profilesync.profiles.models import Profile
from profilesync.profiles.services import create_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import DirectorySyncState, RunStatus, SyncMode
from profilesync.sync.pattern_check import preview_next_run
from profilesync.sync.report import run_as_lines
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db

DISABLED = "546"  # NORMAL_ACCOUNT | PASSWD_NOTREQD | ACCOUNTDISABLE
ENABLED = "544"


@dataclass
class SyncedAD:
    """Six AD users (ann, ben, cid, eve, fay, gus) in the test's own OU, fully synced
    once, with incremental sync on: the next run is incremental by uSNChanged. Six, so
    one deletion stays under the deactivation guard's 20 % and two trip it."""

    directory: object
    ou: object
    dns: dict[str, str]  # sAMAccountName -> DN

    def state(self) -> DirectorySyncState:
        return DirectorySyncState.objects.get(directory=self.directory)

    def profile(self, sam: str) -> Profile:
        return Profile.objects.get(directory=self.directory, username=sam)


def incremental_run(directory):
    report = run_sync([directory])
    (result,) = report.results
    return result, report


@pytest.fixture
def synced_ad(ad_ou, ad_directory) -> Iterator[SyncedAD]:
    dns = {sam: ad_ou.add_user(sam, title="Engineer", department="Research")
           for sam in ("ann", "ben", "cid", "eve", "fay", "gus")}
    directory = ad_directory(ad_ou)
    first = run_sync([directory], mode=SyncMode.FULL).results[0]
    assert (first.status, first.created) == (RunStatus.SUCCEEDED, 6), first.errors
    set_setting("incremental_sync", "on")
    yield SyncedAD(directory, ad_ou, dns)


def test_incremental_run_reads_only_entries_changed_since_the_stored_usn(synced_ad):
    """A changed title and a new user arrive; untouched people are not even read."""
    usn_before = synced_ad.state().usn_watermark
    synced_ad.ou.modify(synced_ad.dns["ann"], title="Head of Research")
    synced_ad.ou.modify(synced_ad.dns["ben"], description="not a mapped attribute")
    synced_ad.ou.add_user("dan", title="Intern")

    result, _ = incremental_run(synced_ad.directory)

    assert result.status == RunStatus.SUCCEEDED, result.errors
    assert result.mode == SyncMode.INCREMENTAL
    # dan created, ann updated, ben read (his uSNChanged moved) but unchanged, cid never read.
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (1, 1, 1, 0)
    assert f"(uSNChanged>={usn_before + 1})" in result.filter_sent
    assert result.change_tracking.startswith(f"by uSNChanged > {usn_before} on CN=NTDS Settings")
    assert result.usn_before == usn_before
    assert result.usn_after > usn_before
    assert synced_ad.profile("ann").values["title"] == "Head of Research"
    assert synced_ad.profile("dan").values["title"] == "Intern"


def test_next_run_is_previewed_with_the_usn_filter_it_will_send(synced_ad):
    """`directory show` and the Data Sources page preview what the next run asks the DC."""
    mode, filterstr = preview_next_run(synced_ad.directory)

    assert mode == SyncMode.INCREMENTAL
    assert filterstr.endswith(f"(uSNChanged>={synced_ad.state().usn_watermark + 1}))")
    result, _ = incremental_run(synced_ad.directory)
    assert result.filter_sent == filterstr


def test_run_without_changes_reads_nobody(synced_ad):
    """With nothing changed in the OU, the run reads no entry at all."""
    result, _ = incremental_run(synced_ad.directory)

    assert result.status == RunStatus.SUCCEEDED, result.errors
    assert (result.created, result.updated, result.unchanged, result.deactivated) == (0, 0, 0, 0)


def test_deleted_user_is_deactivated_by_the_next_incremental_run(synced_ad):
    """AD's deleted-objects search (Show Deleted control) finds the deletion; the profile stays."""
    synced_ad.ou.delete(synced_ad.dns["cid"])

    result, _ = incremental_run(synced_ad.directory)

    assert result.status == RunStatus.SUCCEEDED, result.errors
    assert result.deactivated == 1
    assert "deleted-objects search (Show Deleted control)" in result.deletions_source
    assert "uSNChanged>=" in result.deletions_source
    assert not synced_ad.profile("cid").active
    assert synced_ad.profile("ann").active and synced_ad.profile("ben").active


def test_disabled_account_is_deactivated_and_reactivated_when_enabled(synced_ad):
    """Disabling bumps uSNChanged, so the incremental run sees it; so does enabling again."""
    synced_ad.ou.modify(synced_ad.dns["ben"], userAccountControl=DISABLED)

    disabled, _ = incremental_run(synced_ad.directory)

    assert disabled.status == RunStatus.SUCCEEDED, disabled.errors
    assert (disabled.deactivated, disabled.updated) == (1, 0)  # counted as a deactivation
    assert not synced_ad.profile("ben").active

    synced_ad.ou.modify(synced_ad.dns["ben"], userAccountControl=ENABLED)
    enabled, _ = incremental_run(synced_ad.directory)

    assert enabled.status == RunStatus.SUCCEEDED, enabled.errors
    assert enabled.updated == 1
    assert synced_ad.profile("ben").active
    assert synced_ad.profile("ben").deactivated_at is None


@pytest.mark.parametrize("change, what", [
    ({"usn_server_dn": "CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,"
                       "CN=Sites,CN=Configuration,DC=example,DC=test"}, "CN=DC2"),
    ({"usn_invocation_id": "00000000-0000-0000-0000-000000000001"},
     "invocationId 00000000-0000-0000-0000-000000000001"),
], ids=["another-dc", "restored-dc"])
def test_usn_of_another_or_restored_dc_forces_a_full_sync_and_says_why(synced_ad, change, what):
    """USNs of another DC (or of one restored from backup) mean nothing here: everyone is read."""
    DirectorySyncState.objects.filter(directory=synced_ad.directory).update(**change)
    synced_ad.ou.modify(synced_ad.dns["ann"], title="Head of Research")

    result, report = incremental_run(synced_ad.directory)

    assert result.status == RunStatus.SUCCEEDED, result.errors
    assert result.mode == SyncMode.FULL
    assert (result.updated, result.unchanged) == (1, 5)
    assert result.change_tracking.startswith("full sync: the stored USN")
    assert what in result.change_tracking
    assert "cannot be compared" in result.change_tracking
    assert any("full sync: the stored USN" in line for line in run_as_lines(report.run))
    # The state now names the DC actually reached, so the next run is incremental again.
    after, _ = incremental_run(synced_ad.directory)
    assert after.mode == SyncMode.INCREMENTAL
    assert after.change_tracking.startswith("by uSNChanged")


def test_failed_run_keeps_the_usn_watermark_and_applies_nothing(synced_ad):
    """A run stopped by the deactivation guard leaves the USN and every profile as they were."""
    update_directory(synced_ad.directory, {"deactivation_floor": 0})  # six people: no floor
    state_before = synced_ad.state()
    synced_ad.ou.modify(synced_ad.dns["ann"], title="Head of Research")
    synced_ad.ou.delete(synced_ad.dns["ben"])
    synced_ad.ou.delete(synced_ad.dns["cid"])  # 2 of 6 active: over the 20 % guard

    result, _ = incremental_run(synced_ad.directory)

    assert result.status == RunStatus.FAILED
    assert "stopped before deactivating anyone" in result.errors[0]["message"]
    state = synced_ad.state()
    assert state.usn_watermark == state_before.usn_watermark
    assert state.watermark == state_before.watermark
    assert result.usn_after == result.usn_before == state_before.usn_watermark
    assert synced_ad.profile("ann").values["title"] == "Engineer"  # the change was rolled back too
    assert synced_ad.profile("ben").active

    forced = run_sync([synced_ad.directory], force=True).results[0]
    assert (forced.status, forced.updated, forced.deactivated) == (RunStatus.SUCCEEDED, 1, 2)


def test_chosen_last_sync_date_is_read_by_when_changed_once(synced_ad):
    """An administrator's date cannot become a USN: that run goes by whenChanged, then by USN."""
    set_setting("last_ldap_sync_date", "01-01-2020 00:00:00")

    by_date, _ = incremental_run(synced_ad.directory)

    assert by_date.status == RunStatus.SUCCEEDED, by_date.errors
    assert "whenChanged>=20200101000000" in by_date.filter_sent
    assert by_date.change_tracking.startswith("by whenChanged this time (no USN stored yet)")
    assert by_date.unchanged == 6
    by_usn, _ = incremental_run(synced_ad.directory)
    assert by_usn.change_tracking.startswith("by uSNChanged")


def test_timestamp_tracking_still_finds_changes_and_deletions(synced_ad):
    """PROFILESYNC_AD_CHANGE_TRACKING=timestamp: whenChanged for changes and for deletions."""
    synced_ad.ou.modify(synced_ad.dns["ann"], title="Head of Research")
    synced_ad.ou.delete(synced_ad.dns["cid"])

    with override_settings(PROFILESYNC_AD_CHANGE_TRACKING="timestamp"):
        result, _ = incremental_run(synced_ad.directory)

    assert result.status == RunStatus.SUCCEEDED, result.errors
    assert "whenChanged>=" in result.filter_sent and "uSNChanged" not in result.filter_sent
    assert result.change_tracking == "by whenChanged (PROFILESYNC_AD_CHANGE_TRACKING=timestamp)"
    assert "whenChanged>=" in result.deletions_source
    assert (result.updated, result.deactivated) == (1, 1)
    assert synced_ad.profile("ann").values["title"] == "Head of Research"
    assert not synced_ad.profile("cid").active


def test_user_moved_out_of_the_base_is_left_to_the_nightly_reconciliation(synced_ad):
    """A move is no deletion: the incremental run cannot see it, reconciliation deactivates."""
    synced_ad.ou.rename(synced_ad.dns["ben"], "CN=ben", synced_ad.ou.dn)  # out of OU=people

    incremental, _ = incremental_run(synced_ad.directory)
    reconciled = run_sync([synced_ad.directory], mode=SyncMode.RECONCILIATION).results[0]

    assert (incremental.status, incremental.deactivated) == (RunStatus.SUCCEEDED, 0)
    assert (reconciled.status, reconciled.deactivated) == (RunStatus.SUCCEEDED, 1), reconciled.errors
    assert not synced_ad.profile("ben").active


def test_deletions_hidden_from_an_unprivileged_account_are_found_by_reconciliation(
        ad_ou, ad_directory):
    """Samba shows a plain user the Deleted Objects container but none of the deleted users,
    without an error: the incremental run deactivates nobody and the nightly reconciliation
    still finds the deletion. (docs/architecture.md says which rights the account needs.)"""
    password = "Svc-pw-4711!x"
    service_dn = ad_ou.add_user("svc", parent_dn=ad_ou.dn, password=password)  # not a profile
    dns = {sam: ad_ou.add_user(sam) for sam in ("ann", "ben", "cid", "eve", "fay", "gus")}
    directory = ad_directory(ad_ou, bind_dn=service_dn, bind_password=password)
    assert run_sync([directory], mode=SyncMode.FULL).results[0].created == 6
    set_setting("incremental_sync", "on")
    ad_ou.delete(dns["cid"])

    incremental, _ = incremental_run(directory)
    reconciled = run_sync([directory], mode=SyncMode.RECONCILIATION).results[0]

    assert (incremental.status, incremental.deactivated) == (RunStatus.SUCCEEDED, 0)
    assert (reconciled.status, reconciled.deactivated) == (RunStatus.SUCCEEDED, 1), reconciled.errors
    assert not Profile.objects.get(directory=directory, username="cid").active


# -- range retrieval ----------------------------------------------------------------

MANY = 1700  # more than AD's MaxValRange of 1,500


def many_phones() -> list[str]:
    return [f"+49 30 {i:05d}" for i in range(MANY)]


def test_range_retrieval_follows_slices_to_every_value(ad_ou, samba_dc):
    """Asked for the first slice, as Windows answers past 1,500 values, every value is read."""
    dn = ad_ou.add_user("many", otherTelephone=many_phones())
    with samba_dc.admin() as conn:
        (first,) = conn.search_s(dn, ldap.SCOPE_BASE, attrlist=["otherTelephone;range=0-1499"])
        assert list(first[1]) == ["otherTelephone;range=0-1499"]
        assert len(first[1]["otherTelephone;range=0-1499"]) == 1500

        _, attributes = complete_entry(conn, first)

    assert list(attributes) == ["otherTelephone"]
    assert sorted(v.decode() for v in attributes["otherTelephone"]) == many_phones()


def test_ranged_page_completes_before_the_sync_maps_it(ad_ou, ad_directory):
    """A page with a ranged attribute comes out with the plain name; others pass untouched."""
    ad_ou.add_user("many", otherTelephone=many_phones())
    ad_ou.add_user("few", otherTelephone=["+49 30 1"])
    directory = ad_directory(ad_ou)
    with connected(directory.connection_settings()) as conn:
        (page,) = list(paged_search(conn, directory.search_base, "(objectClass=user)",
                                    ["sAMAccountName", "otherTelephone;range=0-1499"]))
        completed = {attrs["sAMAccountName"][0]: attrs for _, attrs in complete_page(conn, page)}

    assert len(completed[b"many"]["otherTelephone"]) == MANY
    # Samba names a slice even when one holds everything; it is completed the same way.
    assert completed[b"few"].get("otherTelephone") == [b"+49 30 1"]


def test_sync_stores_every_value_of_a_large_multi_valued_attribute(ad_ou, ad_directory):
    """A multi-select field mapped to otherTelephone keeps all 1,700 numbers of a person."""
    create_field("other_phones", {"label": "Other phones", "type": "multiselect",
                                  "ldap_attribute": "otherTelephone"})
    ad_ou.add_user("many", otherTelephone=many_phones())
    directory = ad_directory(ad_ou)

    result = run_sync([directory], mode=SyncMode.FULL).results[0]

    assert result.status == RunStatus.SUCCEEDED, result.errors
    stored = Profile.objects.get(directory=directory, username="many").values["other_phones"]
    assert sorted(stored) == many_phones()


# -- the pure parts -------------------------------------------------------------------

def test_ranged_attribute_names_are_parsed_and_plain_names_are_not():
    assert parse_ranged_name("member;range=0-1499") == Slice("member", 0, 1499)
    assert parse_ranged_name("Member;Range=1500-*") == Slice("Member", 1500, None)
    assert parse_ranged_name("member") is None
    assert parse_ranged_name("userCertificate;binary") is None


def test_dc_identity_compares_names_case_insensitively_and_invocation_ids_when_known():
    dc1 = DomainControllerIdentity("CN=NTDS Settings,CN=DC1,CN=Servers", "a")
    assert dc1.same_as(DomainControllerIdentity("cn=ntds settings,cn=dc1,cn=servers", "a"))
    assert not dc1.same_as(DomainControllerIdentity("CN=NTDS Settings,CN=DC2,CN=Servers", "a"))
    assert not dc1.same_as(DomainControllerIdentity("CN=NTDS Settings,CN=DC1,CN=Servers", "b"))
    assert dc1.same_as(DomainControllerIdentity("CN=NTDS Settings,CN=DC1,CN=Servers", ""))
