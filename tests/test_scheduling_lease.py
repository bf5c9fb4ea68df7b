"""One sync at a time across the cluster: the sync lease, against a real slapd.

A run "in progress" is a real sync whose directory answers are held back by a
relay in front of the session slapd (a slow network), so a test can act while
the run is in the middle and then let it finish. A worker "killed mid-run" is a
real ``profilesync sync`` process killed with SIGKILL while its run waits.
Tests wait for states with deadlines; none asserts a duration.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import override_settings

from profilesync.scheduling.clock import database_now
from profilesync.scheduling.exclusive import SYNC_LEASE, SyncAlreadyRunning, run_sync_exclusively
from profilesync.scheduling.lease import (
    Heartbeat,
    LeaseHeld,
    acquire,
    read_lease,
    release,
    renew,
)
from profilesync.scheduling.models import InterruptedRun, SyncLease
from profilesync.sync.models import DirectoryRunResult, RunStatus, SyncRun
from profilesync.testing.slapd import free_port

pytestmark = pytest.mark.django_db(transaction=True)

MINUTE = timedelta(minutes=1)


class SyncInThread(threading.Thread):
    """``run_sync_exclusively`` in a thread of its own, as a second worker would run it."""

    def __init__(self, **kwargs: object):
        super().__init__(daemon=True)
        self.kwargs = kwargs
        self.report = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.report = run_sync_exclusively(**self.kwargs)
        except BaseException as exc:
            self.error = exc
        finally:
            connections.close_all()

    def result(self):
        self.join(timeout=60)
        assert not self.is_alive(), "the sync in the thread did not finish"
        if self.error is not None:
            raise self.error
        return self.report


def lease_covers_a_run() -> int | None:
    lease = read_lease(SYNC_LEASE)
    return lease.run_id if lease.held else None


@pytest.fixture
def slow_directory(subtree, make_directory, stalling_relay):
    """A directory of two people reached through the relay; the relay starts holding."""
    subtree.add_people(2)
    directory = make_directory(subtree, urls=[stalling_relay.uri], operation_timeout=120.0)
    stalling_relay.hold()
    return directory


def test_a_second_sync_is_refused_while_one_is_running(slow_directory, stalling_relay, wait_for):
    """While a sync runs, another one (any worker, the CLI) is refused, naming who runs it."""
    first = SyncInThread(trigger="schedule", lease_holder="worker one")
    first.start()
    run_id = wait_for(lease_covers_a_run, what="the first run to hold the lease")

    with pytest.raises(SyncAlreadyRunning) as refused:
        run_sync_exclusively(trigger="manual", lease_holder="worker two")

    assert refused.value.holder == "worker one" and refused.value.run_id == run_id
    assert "worker one" in str(refused.value) and f"run {run_id}" in str(refused.value)
    assert SyncRun.objects.count() == 1
    stalling_relay.release()
    report = first.result()
    assert report.run.pk == run_id and report.ok
    assert not read_lease(SYNC_LEASE).held


def test_cli_sync_exits_1_and_says_who_runs_while_a_sync_is_running(cli, fresh_install):
    """`profilesync sync` during a run elsewhere: exit code 1, a message naming the holder."""
    acquire(SYNC_LEASE, "worker on host-b:4242", duration=10 * MINUTE)

    code, _out, err = cli("sync")

    assert code == 1
    assert "already running" in err and "worker on host-b:4242" in err
    assert not SyncRun.objects.exists()


def test_heartbeat_renews_the_lease_until_stopped(fresh_install, wait_for):
    """While its holder works, the heartbeat keeps pushing the lease's expiry forward."""
    held = acquire(SYNC_LEASE, "worker one", duration=timedelta(seconds=1))
    first_expiry = read_lease(SYNC_LEASE).expires_at
    heartbeat = Heartbeat(held, duration=timedelta(seconds=1), every=0.05)
    heartbeat.start()
    try:
        wait_for(lambda: read_lease(SYNC_LEASE).expires_at > first_expiry + timedelta(seconds=2),
                 what="renewals to carry the lease past three lease lengths")
    finally:
        heartbeat.stop()
    assert not heartbeat.lost
    assert read_lease(SYNC_LEASE).holder == "worker one"


@pytest.mark.skipif(connection.vendor == "sqlite", reason=(
    "on SQLite a directory import holds the only write lock, so renewals wait for it to end "
    "(the lease must outlast the longest import there; docs/configuration.md)"))
@override_settings(PROFILESYNC_SYNC_LEASE_SECONDS=1.0, PROFILESYNC_SYNC_LEASE_RENEW_SECONDS=0.1)
def test_heartbeat_keeps_the_lease_of_a_long_run(slow_directory, stalling_relay, wait_for):
    """A run lasting many lease lengths is not taken over: the heartbeat renews its lease."""
    first = SyncInThread(trigger="schedule", lease_holder="worker one")
    first.start()
    wait_for(lease_covers_a_run, what="the run to hold the lease")
    acquired_at = read_lease(SYNC_LEASE).acquired_at
    wait_for(lambda: database_now() > acquired_at + timedelta(seconds=3),
             what="three lease lengths to pass")

    with pytest.raises(SyncAlreadyRunning):
        run_sync_exclusively(trigger="manual", lease_holder="worker two")

    lease = read_lease(SYNC_LEASE)
    assert lease.holder == "worker one" and lease.renewed_at > acquired_at + timedelta(seconds=2)
    stalling_relay.release()
    assert first.result().ok


def test_an_expired_lease_is_taken_over_and_the_stopped_run_recorded_as_failed(
        subtree, make_directory):
    """A worker that died mid-run: the next run proceeds, and the dead one's run says why it failed."""
    subtree.add_people(2)
    directory = make_directory(subtree)
    dead_lease = acquire(SYNC_LEASE, "worker host-a:17", duration=10 * MINUTE)
    dead_run = SyncRun.objects.create(started_at=database_now() - 20 * MINUTE, mode="full",
                                      trigger="schedule")
    DirectoryRunResult.objects.create(run=dead_run, directory=directory, directory_name="corp",
                                      started_at=dead_run.started_at)
    renew(dead_lease, duration=10 * MINUTE, run_id=dead_run.pk)
    SyncLease.objects.filter(name=SYNC_LEASE).update(expires_at=database_now() - MINUTE)

    report = run_sync_exclusively(trigger="schedule", lease_holder="worker host-b:23")

    assert report.ok and report.results[0].created == 2
    dead_run.refresh_from_db()
    assert dead_run.status == RunStatus.FAILED and dead_run.finished_at is not None
    message = InterruptedRun.objects.get(run=dead_run).message
    assert "worker stopped" in message and "worker host-a:17" in message
    (result,) = dead_run.results.all()
    assert result.status == RunStatus.FAILED and result.errors == [{"dn": "", "message": message}]
    assert not read_lease(SYNC_LEASE).held


def test_a_lease_that_has_not_expired_is_not_taken_over(fresh_install):
    """However long ago a holder started, while it renews its lease nobody else gets it."""
    held = acquire(SYNC_LEASE, "worker host-a:17", duration=10 * MINUTE)
    SyncLease.objects.filter(name=SYNC_LEASE).update(acquired_at=database_now() - 600 * MINUTE)

    with pytest.raises(LeaseHeld):
        acquire(SYNC_LEASE, "worker host-b:23", duration=10 * MINUTE)
    assert renew(held, duration=10 * MINUTE)


def test_a_holder_whose_lease_was_taken_over_learns_it(fresh_install):
    """A stalled holder that comes back after a takeover can neither renew nor release."""
    stalled = acquire(SYNC_LEASE, "worker host-a:17", duration=10 * MINUTE)
    SyncLease.objects.filter(name=SYNC_LEASE).update(expires_at=database_now() - MINUTE)
    successor = acquire(SYNC_LEASE, "worker host-b:23", duration=10 * MINUTE)

    assert successor.previous.holder == "worker host-a:17"
    assert not renew(stalled, duration=10 * MINUTE)
    assert not release(stalled)
    assert read_lease(SYNC_LEASE).holder == "worker host-b:23"


def test_racing_acquirers_get_the_lease_once(fresh_install, race):
    """Workers asking for a free lease at the same moment: exactly one gets it, every round."""

    def try_to_acquire() -> str | None:
        name = f"worker {threading.current_thread().name}"
        try:
            acquire(SYNC_LEASE, name, duration=10 * MINUTE)
        except LeaseHeld:
            return None
        return name

    for round_number in range(15):
        won = [name for name in race(2, try_to_acquire) if name]
        assert len(won) == 1, f"round {round_number}: {won}"
        assert read_lease(SYNC_LEASE).holder == won[0]
        SyncLease.objects.filter(name=SYNC_LEASE).update(holder="", expires_at=None)


def test_the_lease_is_released_when_a_run_fails(subtree, make_directory):
    """A run whose directory is unreachable fails as usual and leaves the lease free."""
    make_directory(subtree, urls=[f"ldap://127.0.0.1:{free_port()}"])

    report = run_sync_exclusively(trigger="manual")

    assert not report.ok
    assert not read_lease(SYNC_LEASE).held


def test_a_killed_sync_process_lets_the_next_run_proceed_after_its_lease_expires(
        slow_directory, stalling_relay, wait_for, profilesync_env):
    """`profilesync sync` killed (SIGKILL) mid-run: once its lease expires the next run proceeds,
    and the killed run is recorded as failed because its worker stopped."""
    env = {**profilesync_env, "PROFILESYNC_SYNC_LEASE_SECONDS": "1",
           "PROFILESYNC_SYNC_LEASE_RENEW_SECONDS": "0.2"}
    process = subprocess.Popen([sys.executable, "-m", "profilesync.cli", "sync"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        killed_run_id = wait_for(lease_covers_a_run, what="the CLI's run to hold the lease")
        assert read_lease(SYNC_LEASE).holder.endswith(f"pid {process.pid}")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    stalling_relay.release()
    assert SyncRun.objects.get(pk=killed_run_id).status == RunStatus.RUNNING

    wait_for(lambda: read_lease(SYNC_LEASE).expired(database_now()),
             what="the killed process's lease to expire")
    report = run_sync_exclusively(trigger="manual")

    assert report.ok and report.results[0].created == 2
    killed = SyncRun.objects.get(pk=killed_run_id)
    assert killed.status == RunStatus.FAILED
    assert "worker stopped" in killed.interruption.message
