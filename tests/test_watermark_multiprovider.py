"""The watermark on multi-provider OpenLDAP: no change that reaches a server late is passed.

Two real slapd providers replicate to each other (``profilesync.testing.multiprovider``).
A provider that is stopped, or whose replication link is held back, misses the other's
changes for a while; they reach it later, carrying their original (older)
``modifyTimestamp``. The next incremental run must still read them. Runs are real
syncs on the test database (SQLite or PostgreSQL, whichever the suite runs on).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from profilesync.directories.services import create_directory
from profilesync.ldapclient.server_clock import ChangeSequenceNumber, ServerClock
from profilesync.ldapclient.timestamps import parse_generalized_time
from profilesync.profiles.models import Profile
from profilesync.sync.clock import watermark_from
from profilesync.sync.models import DataSourceSettings, RunStatus, SyncMode
from profilesync.sync.runner import run_sync
from profilesync.testing.availability import unavailable
from profilesync.testing.multiprovider import MultiProvider, Provider
from profilesync.testing.slapd import SlapdNotAvailable

pytestmark = pytest.mark.django_db(transaction=True)

SUFFIX = "dc=example,dc=org"
PEOPLE = f"ou=people,{SUFFIX}"
ALICE = f"uid=alice,{PEOPLE}"
BOB = f"uid=bob,{PEOPLE}"


@pytest.fixture
def pair() -> Iterator[MultiProvider]:
    """Two providers in multi-provider replication with alice and bob, on both."""
    try:
        providers = MultiProvider(SUFFIX)
    except SlapdNotAvailable as exc:
        unavailable("two slapd providers", str(exc))
    with providers as started:
        first, second = started.providers
        first.add(PEOPLE, {"objectClass": ["organizationalUnit"], "ou": ["people"]})
        for uid in ("alice", "bob"):
            first.add(f"uid={uid},{PEOPLE}", {
                "objectClass": ["inetOrgPerson"], "uid": [uid], "cn": [uid.title()],
                "sn": [uid.title()], "title": ["Engineer"]})
        started.wait_until_replicated(second, BOB, "title", "Engineer")
        yield started


def make_directory(urls: list[str], provider: Provider):
    DataSourceSettings.objects.update_or_create(pk=1, defaults={"incremental_sync": True})
    return create_directory("corp", {"urls": urls, "bind_dn": provider.root_dn,
                                     "bind_password": provider.root_pw, "base_dn": SUFFIX,
                                     "user_dn": "ou=people"})


def title_of(directory, uid: str) -> str:
    return Profile.objects.get(directory=directory, username=uid).values["title"]


def modified_at(provider: Provider, dn: str) -> datetime:
    stamp = provider.entry(dn, ["modifyTimestamp"])["modifytimestamp"][0].decode()
    return parse_generalized_time(stamp)


def after_the_second_of(moment: datetime) -> None:
    """Wait until the clock is past ``moment``'s second, so a later change has a later
    ``modifyTimestamp`` (one-second resolution) than the change made at ``moment``."""
    MultiProvider.wait_until(lambda: datetime.now(UTC).replace(microsecond=0) > moment,
                             what="the next second", timeout=5)


def sync_once(directory):
    report = run_sync([directory])
    (result,) = report.results
    assert result.status == RunStatus.SUCCEEDED, result.errors
    return result


def test_a_change_made_while_the_served_provider_was_down_is_read_by_the_next_run(
        pair, fresh_install):
    """The first provider is stopped while the second takes a change; it comes back lagging and
    takes a newer change of its own. An incremental run reads the newer one; once the late
    change arrives (with its older modifyTimestamp) the next incremental run reads it too."""
    first, second = pair.providers
    directory = make_directory([first.ldap_uri], first)
    assert sync_once(directory).created == 2

    first.stop()
    second.modify(ALICE, {"title": ["Changed while the first was down"]})
    late_change = modified_at(second, ALICE)
    pair.hold_changes_to(first)  # it comes back, but its replication lags behind
    first.start()
    after_the_second_of(late_change)
    first.modify(BOB, {"title": ["Changed on the first"]})
    assert first.entry(ALICE, ["title"])["title"] == [b"Engineer"]

    lagging = sync_once(directory)
    assert lagging.mode == SyncMode.INCREMENTAL
    assert title_of(directory, "bob") == "Changed on the first"
    assert title_of(directory, "alice") == "Engineer"  # not on the first provider yet
    assert lagging.watermark_after <= late_change, "the watermark passed the late change"
    assert "oldest contextCSN (server ID 002, of 2)" in lagging.watermark_source
    assert "served by" not in lagging.watermark_source

    pair.release_changes_to(first)
    pair.wait_until_replicated(first, ALICE, "title", "Changed while the first was down")
    caught_up = sync_once(directory)

    assert caught_up.mode == SyncMode.INCREMENTAL
    assert title_of(directory, "alice") == "Changed while the first was down"
    assert caught_up.updated == 1


def test_a_run_that_fails_over_to_a_lagging_provider_says_so_and_takes_its_clock(
        pair, fresh_install):
    """The first URL is down and the second provider, which has not received the first's last
    change, serves the run: the report names the server that served it, the watermark comes
    from that server's clock, and the change it lacked is read once it has it."""
    first, second = pair.providers
    directory = make_directory([first.ldap_uri, second.ldap_uri], first)
    first_run = sync_once(directory)
    assert first_run.created == 2 and "served by" not in first_run.watermark_source

    pair.hold_changes_to(second)  # the second lags behind the first
    first.modify(ALICE, {"title": ["Changed on the first"]})
    lacked = modified_at(first, ALICE)
    after_the_second_of(lacked)
    second.modify(BOB, {"title": ["Changed on the second"]})
    first.stop()

    failed_over = sync_once(directory)
    assert failed_over.mode == SyncMode.INCREMENTAL
    assert failed_over.watermark_source.startswith(
        f"served by {second.ldap_uri}, not the first URL {first.ldap_uri} (it did not answer)")
    assert title_of(directory, "bob") == "Changed on the second"
    assert title_of(directory, "alice") == "Engineer"
    assert failed_over.watermark_after <= lacked, "the lagging server's clock passed a change"

    first.start()
    pair.release_changes_to(second)
    pair.wait_until_replicated(second, ALICE, "title", "Changed on the first")
    back = sync_once(directory)

    assert "served by" not in back.watermark_source
    assert title_of(directory, "alice") == "Changed on the first"


# -- the rule itself, on readings a hostile or unusual server could send ------

def _csn(stamp: str, server_id: int) -> ChangeSequenceNumber:
    return ChangeSequenceNumber.parse(f"{stamp}#000000#{server_id:03x}#000000")


def test_the_oldest_server_id_sets_the_watermark_and_the_newest_value_per_id_counts():
    clock = ServerClock("ldap://a:389", None, SUFFIX, (
        _csn("20261201100000.500000Z", 1), _csn("20261201090000.000000Z", 2),
        _csn("20261201080000.000000Z", 2)))  # an older duplicate of ID 2 does not count

    moment = watermark_from(clock, ["ldap://a"])

    assert moment.moment == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert moment.source == f"oldest contextCSN (server ID 002, of 2) of {SUFFIX}"
    assert not moment.failed_over  # libldap adds the default port; same server


def test_unreadable_csns_are_ignored_and_a_single_server_reads_as_before():
    with pytest.raises(ValueError):
        ChangeSequenceNumber.parse("20261201100000Z)(uid=*")
    clock = ServerClock("ldap://b:389", None, SUFFIX, (_csn("20261201100000.999999Z", 1),),
                        ("garbage",))

    moment = watermark_from(clock, ["ldap://a", "ldap://b"])

    assert moment.moment == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # truncated, never rounded up
    assert moment.failed_over and moment.served_by == "ldap://b:389"
    assert moment.source == (f"served by ldap://b:389, not the first URL ldap://a (it did not "
                             f"answer): contextCSN of {SUFFIX}")


def test_a_server_id_far_behind_the_others_is_named_with_how_far():
    """A retired provider's value left in contextCSN holds the watermark back: the report
    says by how much, so an administrator can find it (docs/architecture.md)."""
    clock = ServerClock("ldap://a:389", None, SUFFIX, (
        _csn("20261201100000Z", 1), _csn("20261020100000Z", 0), _csn("20261201090000Z", 2)))

    moment = watermark_from(clock, ["ldap://a:389"])

    assert moment.moment == datetime(2026, 10, 20, 10, 0, tzinfo=UTC)
    assert moment.source.startswith(
        "oldest contextCSN (server ID 000, of 3, 42 days behind the newest)")
