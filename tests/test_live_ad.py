"""Live updates from Active Directory (a real Samba AD DC), in a worker.

Samba lists and honours the change notification control, so live is on by
default: the listener keeps a notification search open and, when the DC
reports a change (or ``highestCommittedUSN`` moved at the latest every
``live_poll_seconds``, which also catches deletions), runs an incremental run
by uSNChanged (trigger "live"). No scheduled run happens in these tests.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import pytest

from profilesync.live.models import LiveListener
from profilesync.live.status import set_live
from profilesync.profiles.models import Profile
from profilesync.sync.models import DirectorySyncState, RunStatus, SyncMode, SyncRun
from profilesync.sync.runner import run_sync
from profilesync.testing.live import WorkerProcess, Workers

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_worker(tmp_path, profilesync_env) -> Iterator[Callable[..., WorkerProcess]]:
    with Workers(tmp_path, profilesync_env) as workers:
        yield workers.start


def title_of(directory, username: str) -> str | None:
    found = Profile.objects.filter(directory=directory, username=username).first()
    return None if found is None else found.values.get("title")


def test_ad_changes_arrive_by_notification_without_a_scheduled_run(ad_ou, ad_directory, start_worker,
                                                              wait_for, cli):
    """A changed title, a new user and a deletion on the DC reach the profiles through the
    worker's listener, woken by the DC's change notification; the state says so."""
    dns = {sam: ad_ou.add_user(sam, title="Engineer") for sam in ("ann", "ben", "cid", "dot",
                                                                    "eve", "fay")}
    directory = ad_directory(ad_ou)
    first = run_sync([directory], mode=SyncMode.FULL).results[0]
    assert first.status == RunStatus.SUCCEEDED, first.errors
    set_live(directory, poll_seconds=30)  # the notification wakes it long before
    worker = start_worker("w1")

    def connected():
        assert worker.alive(), worker.output
        row = LiveListener.objects.filter(directory=directory).first()
        return row is not None and row.state == "connected"

    wait_for(connected, what="the listener to connect", timeout=60)
    code, out, _ = cli("directory", "show", directory.name, "--json")
    live = json.loads(out)["live"]
    assert (live["state"], live["method"], live["setting"]) == (
        "connected", "notification", "default")
    assert "change notification" in live["message"]

    ad_ou.modify(dns["ann"], title="Head of Research")
    wait_for(lambda: title_of(directory, "ann") == "Head of Research", what="ann's title")
    # A deletion moves the object out of the watched base, so no notification comes: the
    # USN poll finds it. Shorter polls from the next wake-up on.
    set_live(directory, poll_seconds=1)
    ad_ou.add_user("gus", title="New starter")
    wait_for(lambda: title_of(directory, "gus") == "New starter", what="gus to arrive")
    ad_ou.delete(dns["ben"])
    wait_for(lambda: not Profile.objects.get(directory=directory, username="ben").active,
             what="ben's deactivation")

    assert SyncRun.objects.exclude(trigger="live").count() == 1  # the first import only
    assert SyncRun.objects.filter(trigger="live", status=RunStatus.SUCCEEDED).exists()
    state = DirectorySyncState.objects.get(directory=directory)
    assert state.usn_watermark  # the same USN watermark the scheduled runs go on from
    assert LiveListener.objects.get(directory=directory).last_change_at is not None
    assert worker.stop() == 0


def test_ad_without_notification_polls_uSNChanged(ad_ou, ad_directory, start_worker, wait_for):
    """Told the DC refuses notification (as a Windows DC may for this base), the listener polls
    uSNChanged every live_poll_seconds, says so, and a change still arrives."""
    dns = {sam: ad_ou.add_user(sam, title="Engineer") for sam in ("ann", "ben", "cid", "dot")}
    directory = ad_directory(ad_ou)
    assert run_sync([directory], mode=SyncMode.FULL).results[0].status == RunStatus.SUCCEEDED
    set_live(directory, poll_seconds=1)
    worker = start_worker("w1", extra_env={"PROFILESYNC_LIVE_AD_NOTIFICATION": "off"})

    wait_for(lambda: (LiveListener.objects.filter(directory=directory, state="polling")
                      .exists() or not worker.alive()), what="polling", timeout=60)
    row = LiveListener.objects.get(directory=directory)
    assert (row.method, row.state) == ("usn-poll", "polling"), worker.output
    assert "polling uSNChanged every 1 s" in row.message
    ad_ou.modify(dns["cid"], title="Polled")
    wait_for(lambda: title_of(directory, "cid") == "Polled", what="cid's title")


def test_ad_rename_and_move_arrive_without_a_scheduled_run(ad_ou, ad_directory, start_worker,
                                                         wait_for):
    """A user renamed (modrdn) and then moved to another OU inside the synced OU keeps their
    profile (same objectGUID, no new person) and the new DN and name reach it through the
    worker's listener; no scheduled run happens."""
    dn = ad_ou.add_user("dan", title="Engineer", displayName="Dan Dunn")
    ad_ou.add_user("eli", title="Engineer")
    directory = ad_directory(ad_ou, user_dn="")  # the whole OU, so a move stays in scope
    assert run_sync([directory], mode=SyncMode.FULL).results[0].status == RunStatus.SUCCEEDED
    before = Profile.objects.get(directory=directory, username="dan")
    set_live(directory, poll_seconds=30)  # the notification wakes it long before
    worker = start_worker("w1")
    wait_for(lambda: (LiveListener.objects.filter(directory=directory, state="connected")
                      .exists() or not worker.alive()), what="the listener to connect",
             timeout=60)
    assert worker.alive(), worker.output

    def dn_of_dan() -> str:
        return Profile.objects.get(pk=before.pk).dn.lower()

    renamed = ad_ou.rename(dn, "CN=Daniel Dunn")
    wait_for(lambda: dn_of_dan() == renamed.lower(), what="dan's new DN after the rename")
    ad_ou.modify(renamed, displayName="Daniel Dunn")
    wait_for(lambda: Profile.objects.get(pk=before.pk).display_name == "Daniel Dunn",
             what="dan's new name")
    elsewhere = ad_ou.dc.add_ou("moved", ad_ou.dn)
    moved = ad_ou.rename(renamed, "CN=Daniel Dunn", elsewhere)
    wait_for(lambda: dn_of_dan() == moved.lower(), what="dan's new DN after the move")

    people = Profile.objects.filter(directory=directory)
    assert sorted(people.values_list("username", flat=True)) == ["dan", "eli"]
    after = people.get(username="dan")
    assert (after.pk, after.active, after.values.get("title")) == (before.pk, True, "Engineer")
    assert SyncRun.objects.exclude(trigger="live").count() == 1  # the first import only
    assert worker.stop() == 0
