"""Live updates from Active Directory (a real Samba AD DC): uSNChanged polled by a worker.

Samba lists the change notification control, so live is on by default; the
listener polls ``highestCommittedUSN`` every ``live_poll_seconds`` (1 s here)
and, when it moved, runs an incremental run by uSNChanged (trigger "live").
No scheduled run happens in these tests.
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
from profilesync.testing.live import WorkerProcess

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def start_worker(tmp_path, profilesync_env) -> Iterator[Callable[[str], WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(worker_id: str) -> WorkerProcess:
        worker = WorkerProcess(worker_id, tmp_path, profilesync_env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()


def title_of(directory, username: str) -> str | None:
    found = Profile.objects.filter(directory=directory, username=username).first()
    return None if found is None else found.values.get("title")


def test_ad_changes_arrive_by_polling_without_a_scheduled_run(ad_ou, ad_directory, start_worker,
                                                              wait_for, cli):
    """A changed title, a new user, a rename and a deletion on the DC reach the profiles through
    the worker's poll of uSNChanged; the state says it polls and why."""
    dns = {sam: ad_ou.add_user(sam, title="Engineer") for sam in ("ann", "ben", "cid", "dot",
                                                                    "eve", "fay")}
    directory = ad_directory(ad_ou)
    first = run_sync([directory], mode=SyncMode.FULL).results[0]
    assert first.status == RunStatus.SUCCEEDED, first.errors
    set_live(directory, poll_seconds=1)
    worker = start_worker("w1")

    def polling():
        assert worker.alive(), worker.output
        row = LiveListener.objects.filter(directory=directory).first()
        return row is not None and row.state == "polling"

    wait_for(polling, what="the listener to poll", timeout=60)
    code, out, _ = cli("directory", "show", directory.name, "--json")
    live = json.loads(out)["live"]
    assert (live["state"], live["method"], live["setting"]) == ("polling", "usn-poll", "default")
    assert "uSNChanged every 1 s" in live["message"]

    ad_ou.modify(dns["ann"], title="Head of Research")
    wait_for(lambda: title_of(directory, "ann") == "Head of Research", what="ann's title")
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
