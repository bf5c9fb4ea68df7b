"""`profilesync worker` processes, the scheduler and "run now", end to end against a real slapd.

Workers are real subprocesses on the test database; their scheduler looks for due
slots every 0.2 s and their sync lease lasts 2 s, so a killed worker's lease
expires quickly. A due slot is made by moving the schedule's claimed slot back
while the workers run. Tests wait for states with deadlines; none asserts a
duration.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django_tasks_db.models import DBTaskResult

from profilesync.profiles.models import Profile
from profilesync.scheduling.clock import database_now
from profilesync.scheduling.exclusive import SYNC_LEASE
from profilesync.scheduling.jobs import BULK_PROFILE_UPDATE
from profilesync.scheduling.lease import read_lease
from profilesync.scheduling.models import Schedule
from profilesync.scheduling.schedules import set_schedule
from profilesync.sync.models import RunStatus, SyncRun
from profilesync.testing import live

pytestmark = pytest.mark.django_db(transaction=True)

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="several workers sharing one database is the PostgreSQL deployment; run the suite "
    "with PROFILESYNC_DATABASE_URL=postgres://... to test it")

ONCE_A_YEAR = "0 0 1 1 *"  # due on 1 January only: no second slot comes during a test
TASK_DONE = ("SUCCESSFUL", "FAILED")


class WorkerProcess(live.WorkerProcess):
    """A worker whose scheduler looks every 0.2 s and whose sync lease lasts 2 s."""

    SETTINGS = {"PROFILESYNC_LOG_LEVEL": "INFO", "PROFILESYNC_SYNC_LEASE_SECONDS": "2",
                "PROFILESYNC_SYNC_LEASE_RENEW_SECONDS": "0.2"}
    INTERVAL = "0.1"
    SCHEDULE_INTERVAL = "0.2"

    def started(self) -> bool:
        assert self.alive(), f"worker {self.worker_id} exited:\n{self.output}"
        return f"worker {self.worker_id}: tasks from queue" in self.output


@pytest.fixture
def start_workers(tmp_path, wait_for, profilesync_env) -> Iterator[Callable[..., list[WorkerProcess]]]:
    started: list[WorkerProcess] = []

    def start(*worker_ids: str) -> list[WorkerProcess]:
        workers = [WorkerProcess(worker_id, tmp_path, profilesync_env) for worker_id in worker_ids]
        started.extend(workers)
        for worker in workers:
            wait_for(worker.started, what=f"worker {worker.worker_id} to start")
        return workers

    yield start
    for worker in started:
        if worker.process.poll() is None:
            worker.process.kill()
            worker.process.wait()


def sync_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=BULK_PROFILE_UPDATE.task_path))


def make_slot_due() -> datetime:
    """Pretend the job last ran in 2000: the last 1 January is due now. Return that slot."""
    Schedule.objects.filter(job=BULK_PROFILE_UPDATE.name).update(
        claimed_slot=datetime(2000, 1, 1, 12, tzinfo=UTC))
    return datetime(database_now().astimezone(UTC).year, 1, 1, tzinfo=UTC)


@on_postgresql
def test_one_due_slot_with_two_workers_runs_one_sync(subtree, make_directory, start_workers,
                                                     wait_for):
    """Two workers, one due slot: the sync runs exactly once and imports everyone."""
    subtree.add_people(3)
    directory = make_directory(subtree)
    set_schedule(BULK_PROFILE_UPDATE, ONCE_A_YEAR)
    workers = start_workers("w1", "w2")

    slot = make_slot_due()
    (task,) = wait_for(lambda: [t for t in sync_tasks() if t.status in TASK_DONE],
                       what="the slot's task to finish")

    assert task.status == "SUCCESSFUL", task.traceback
    assert task.return_value["ran"] is True
    assert Schedule.objects.get(job=BULK_PROFILE_UPDATE.name).claimed_slot == slot
    assert len(sync_tasks()) == 1
    (run,) = SyncRun.objects.all()
    assert (run.status, run.trigger) == (RunStatus.SUCCEEDED, "schedule")
    assert Profile.objects.filter(directory=directory).count() == 3
    assert [worker.stop() for worker in workers] == [0, 0]


@on_postgresql
def test_a_worker_killed_mid_run_lets_the_next_run_proceed_after_its_lease_expires(
        subtree, make_directory, stalling_relay, start_workers, wait_for):
    """SIGKILL the worker running the sync: once its lease expires, "run now" runs on the other
    worker, and the killed run (and its task) are recorded as failed because the worker stopped."""
    subtree.add_people(2)
    make_directory(subtree, urls=[stalling_relay.uri], operation_timeout=120.0)
    stalling_relay.hold()
    set_schedule(BULK_PROFILE_UPDATE, ONCE_A_YEAR)
    workers = {worker.worker_id: worker for worker in start_workers("w1", "w2")}

    make_slot_due()
    killed_run_id = wait_for(lambda: read_lease(SYNC_LEASE).run_id,
                             what="a worker's run to hold the lease")
    holder = read_lease(SYNC_LEASE).holder
    killed = workers.pop(holder.removeprefix("worker "))
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait(timeout=30)
    stalling_relay.release()
    (survivor,) = workers.values()

    wait_for(lambda: read_lease(SYNC_LEASE).expired(database_now()),
             what="the killed worker's lease to expire")
    queued = json.loads(_call("sync", "--background", "--json"))
    wait_for(lambda: DBTaskResult.objects.get(pk=queued["task"]).status in TASK_DONE,
             what="the run-now task to finish")

    (after,) = SyncRun.objects.exclude(pk=killed_run_id)
    assert (after.status, after.trigger) == (RunStatus.SUCCEEDED, "manual")
    assert after.results.get().created == 2
    stopped = SyncRun.objects.get(pk=killed_run_id)
    assert stopped.status == RunStatus.FAILED
    assert "worker stopped" in stopped.interruption.message
    assert f"worker {killed.worker_id}" in stopped.interruption.message
    killed_task = DBTaskResult.objects.get(worker_ids=[killed.worker_id],
                                           task_path=BULK_PROFILE_UPDATE.task_path)
    assert killed_task.status == "FAILED" and "worker stopped" in killed_task.traceback
    assert survivor.stop() == 0


def test_sigterm_during_a_run_lets_the_run_finish_then_stops(
        subtree, make_directory, stalling_relay, start_workers, wait_for):
    """A worker told to stop in the middle of a sync finishes it, then exits with code 0."""
    subtree.add_people(2)
    make_directory(subtree, urls=[stalling_relay.uri], operation_timeout=120.0)
    stalling_relay.hold()
    (worker,) = start_workers("solo")
    _call("sync", "--background")
    run_id = wait_for(lambda: read_lease(SYNC_LEASE).run_id, what="the worker's run to start")

    worker.process.send_signal(signal.SIGTERM)
    stalling_relay.release()

    assert worker.exit_code() == 0, worker.output
    run = SyncRun.objects.get(pk=run_id)
    assert run.status == RunStatus.SUCCEEDED and run.results.get().created == 2
    assert not read_lease(SYNC_LEASE).held
    assert "Traceback" not in worker.output


def test_idle_worker_stops_at_once_on_sigterm(start_workers):
    """An idle worker (task loop and scheduler) exits with code 0 on SIGTERM."""
    (worker,) = start_workers("idle")
    assert worker.stop() == 0, worker.output
    assert "Traceback" not in worker.output


def test_run_now_queues_the_sync_for_a_worker(subtree, make_directory):
    """`sync --background` returns at once; the next worker runs the sync, recorded as manual."""
    subtree.add_people(2)
    directory = make_directory(subtree)

    queued = json.loads(_call("sync", "--background", "--json"))

    assert queued["queued"] is True and not SyncRun.objects.exists()
    _call("worker", "--batch")
    task = DBTaskResult.objects.get(pk=queued["task"])
    assert task.status == "SUCCESSFUL", task.traceback
    (run,) = SyncRun.objects.all()
    assert (run.status, run.trigger) == (RunStatus.SUCCEEDED, "manual")
    assert task.return_value == {"ran": True, "run": run.pk, "status": "succeeded", "slot": None}
    assert Profile.objects.filter(directory=directory).count() == 2


def _call(*argv: str) -> str:
    out = StringIO()
    call_command(*argv, stdout=out)
    return out.getvalue()
