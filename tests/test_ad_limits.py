"""Active Directory (a real Samba DC): MaxPageSize below the page size loses nobody, and
disabling accounts is counted by the deactivation guard like any other deactivation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from profilesync.directories.models import Directory
from profilesync.profiles.models import Profile
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import RunStatus, SyncMode
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db

DISABLED = "546"  # NORMAL_ACCOUNT | PASSWD_NOTREQD | ACCOUNTDISABLE
MAX_PAGE_SIZE = 20
PEOPLE = 45


@pytest.fixture
def small_max_page_size(samba_dc) -> Iterator[None]:
    """The domain's Default Query Policy with MaxPageSize 20 (Samba reads it per connection);
    the values as they were afterwards, for the other tests of the session."""
    policy = ("CN=Default Query Policy,CN=Query-Policies,CN=Directory Service,CN=Windows NT,"
              f"CN=Services,CN=Configuration,{samba_dc.base_dn}")
    before = samba_dc.read(policy, "lDAPAdminLimits").get("lDAPAdminLimits", [])
    limits = [v for v in before if not v.lower().startswith(b"maxpagesize=")]
    samba_dc.modify(policy, lDAPAdminLimits=[*limits, f"MaxPageSize={MAX_PAGE_SIZE}".encode()])
    try:
        yield
    finally:
        samba_dc.modify(policy, lDAPAdminLimits=before or None)


def test_page_size_above_max_page_size_loses_nobody(small_max_page_size, ad_ou, ad_directory):
    """MaxPageSize 20 and a page size of 1,000: every user arrives. Measured: Samba honours
    the page size asked for in a paged search whatever MaxPageSize says (Windows AD hands
    out MaxPageSize per page instead, which the search layer notices on a first page that is
    short and not the last); either way nobody is lost and no limit is claimed that the
    server did not show."""
    ad_ou.add_users(PEOPLE, prefix="paged")
    directory = ad_directory(ad_ou, page_size=1000)

    (result,) = run_sync([directory], mode=SyncMode.FULL).results

    assert (result.status, result.created) == (RunStatus.SUCCEEDED, PEOPLE), result.errors
    assert result.notes == []
    assert Directory.objects.get(pk=directory.pk).page_size == 1000


def test_disabled_accounts_count_toward_the_guard(ad_ou, ad_directory):
    """Disabling 4 of 10 accounts at once (over 20 % and the floor of 3) trips the guard like
    deleting them would: nothing changes and the report names them. --force passes once."""
    dns = {f"dis{i}": ad_ou.add_user(f"dis{i}", title="Engineer") for i in range(10)}
    directory = ad_directory(ad_ou)
    assert run_sync([directory], mode=SyncMode.FULL).results[0].created == 10
    set_setting("incremental_sync", "on")
    for sam in ("dis0", "dis1", "dis2", "dis3"):
        ad_ou.modify(dns[sam], userAccountControl=DISABLED)

    (tripped,) = run_sync([directory]).results

    assert tripped.status == RunStatus.FAILED
    assert "4 of 10" in tripped.errors[0]["message"]
    assert tripped.would_deactivate == ["dis0", "dis1", "dis2", "dis3"]
    assert Profile.objects.filter(directory=directory, active=True).count() == 10
    (forced,) = run_sync([directory], force=True).results
    assert (forced.status, forced.deactivated) == (RunStatus.SUCCEEDED, 4)
    assert "deactivated 4: disabled in the directory" in forced.notes
    assert Profile.objects.filter(directory=directory, active=True).count() == 6
