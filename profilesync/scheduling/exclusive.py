"""``run_sync_exclusively``: the sync runner, one run at a time across the cluster.

Every way a sync starts (the schedule, "run now", ``profilesync sync``) goes
through here, so two syncs never write the same profiles at once. The run holds
the ``sync`` lease; a heartbeat renews it while the run goes on. A worker that
dies stops renewing; the next run takes the expired lease over and records the
dead worker's run as failed, saying the worker stopped.

A worker that only *stalled* (a paused VM, SIGSTOP, a long SQLite transaction)
may resume after that takeover. The lease generation it acquired is its fencing
token: every commit of its run checks the token inside the committing
transaction (``sync.fence``), so the resumed run rolls back instead of
committing beside its successor, and is recorded as superseded next to the
"failed" the takeover wrote (never over it).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from profilesync.directories.models import Directory
from profilesync.sync.fence import RunSuperseded, fenced_by
from profilesync.sync.models import DirectoryRunResult, RunStatus, SyncRun
from profilesync.sync.runner import RunReport, run_sync

from .jobs import JOBS
from .lease import (
    Heartbeat,
    HeldLease,
    LeaseHeld,
    LeaseState,
    acquire,
    check_token,
    read_lease,
    release,
    renew,
)
from .models import InterruptedRun

log = logging.getLogger(__name__)

SYNC_LEASE = "sync"

# The lease the current thread holds while its run_sync call is in progress, so that
# the SyncRun it creates can be noted on the lease. Per thread: nothing shared.
_holding = threading.local()


class WorkerStopped(Exception):
    """Recorded (never raised) as the failure of a task whose worker died running it."""


class SyncSuperseded(Exception):
    """Raised by a worker's task whose run was superseded, so the task table says "failed"
    with the run's story instead of "successful" over what the takeover recorded."""


def superseded_story(run: SyncRun) -> str | None:
    """The interruption message of a run that resumed after a takeover and rolled back."""
    interruption = InterruptedRun.objects.filter(run=run, superseded_at__isnull=False).first()
    return None if interruption is None else interruption.message


class SyncAlreadyRunning(Exception):
    """Another sync holds the lease: who, since when, until when unless renewed."""

    def __init__(self, state: LeaseState):
        self.holder = state.holder
        self.since = state.acquired_at
        self.run_id = state.run_id
        self.expires_at = state.expires_at
        run = f"run {self.run_id}" if self.run_id else "a run"
        super().__init__(
            f"a sync is already running: {run} held by {self.holder} since "
            f"{_local_time(self.since)} (its lease lasts until {_local_time(self.expires_at)} "
            "unless renewed)")


def run_sync_exclusively(
    directories: Iterable[Directory] | None = None,
    *,
    force: bool = False,
    trigger: str = "cli",
    lease_holder: str | None = None,
    **kwargs,
) -> RunReport:
    """``run_sync`` under the cluster-wide sync lease; raise ``SyncAlreadyRunning`` if held.

    Arguments are those of ``runner.run_sync`` (others pass through); ``lease_holder``
    names this process in the lease and in messages (default: trigger, host and pid).
    """
    holder = lease_holder or default_holder(trigger)
    try:
        lease = acquire(SYNC_LEASE, holder, duration=lease_duration())
    except LeaseHeld as exc:
        raise SyncAlreadyRunning(exc.state) from None
    if lease.previous.held:
        _record_takeover(lease)
    keeper = _LeaseKeeper(lease)
    _holding.keeper = keeper
    try:
        with fenced_by(keeper.check_fence):
            return run_sync(directories, force=force, trigger=trigger, **kwargs)
    except RunSuperseded as exc:
        if keeper.run_id is None:
            raise
        return _record_superseded(keeper.run_id, holder, exc)
    except Exception as exc:
        lost = keeper.lost_lease() if keeper.run_id is not None else None
        if lost is None:
            if keeper.run_id is not None:
                _record_stopped_run(keeper.run_id, holder, _why_stopped(holder, exc))
            raise
        # A resumed run can trip over its successor's rows (a unique key it committed)
        # before it reaches a fencing check: the lost lease is the story, not the error.
        log.exception("sync run failed after losing its lease run=%s holder=%s",
                      keeper.run_id, holder)
        return _record_superseded(keeper.run_id, holder, lost)
    except BaseException as exc:
        if keeper.run_id is not None:
            _record_stopped_run(keeper.run_id, holder, _why_stopped(holder, exc))
        raise
    finally:
        _holding.keeper = None
        keeper.stop()
        _release_quietly(lease)


def default_holder(trigger: str) -> str:
    return f"{trigger} on {socket.gethostname()} pid {os.getpid()}"


def worker_holder(worker_id: str) -> str:
    """How a ``profilesync worker`` names itself in the lease (its task-table worker id)."""
    return f"{_WORKER_PREFIX}{worker_id}"


_WORKER_PREFIX = "worker "


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.PROFILESYNC_SYNC_LEASE_SECONDS)


class _LeaseKeeper:
    """Keeps the lease alive during the run and notes the run's id on it.

    The run id is written from the caller's thread as soon as the run exists,
    before the runner opens its directory transactions (on SQLite those hold the
    only write lock). Renewals come from a ``Heartbeat`` thread; inside a caller's
    own transaction (``connection.in_atomic_block``, as in tests) nobody else can
    see the lease before that transaction commits and a second connection would
    wait on the row it has locked, so there no thread is started.
    """

    def __init__(self, lease: HeldLease):
        self.lease = lease
        self.run_id: int | None = None
        self._heartbeat: Heartbeat | None = None
        if not connection.in_atomic_block:
            self._heartbeat = Heartbeat(lease, duration=lease_duration(),
                                        every=settings.PROFILESYNC_SYNC_LEASE_RENEW_SECONDS)
            self._heartbeat.start()

    def note_run(self, run_id: int) -> None:
        self.run_id = run_id
        try:
            with transaction.atomic():  # a savepoint when the caller is inside a transaction
                renew(self.lease, duration=lease_duration(), run_id=run_id)
        except DatabaseError as exc:
            # Only a takeover would miss the id: that run then stays "running" in the report.
            log.warning("could not note the run on the sync lease run=%s error=%s", run_id, exc)

    def check_fence(self) -> None:
        """The fencing check, inside the transaction about to commit (``sync.fence``).

        A renewal in that transaction: it finds the lease still ours (same
        generation and holder) and holds the row (SQLite: the write lock) until
        the commit, so a takeover waits for the commit and then finds the lease
        renewed. Zero rows means a takeover happened: raise ``RunSuperseded``.
        """
        if not check_token(self.lease, duration=lease_duration()):
            raise self._superseded(read_lease(self.lease.name))

    def lost_lease(self) -> RunSuperseded | None:
        """Whether the lease has gone to another run (read only; None if it cannot tell)."""
        try:
            now = read_lease(self.lease.name)
        except DatabaseError:
            return None
        if (now.generation, now.holder) == (self.lease.generation, self.lease.holder):
            return None
        return self._superseded(now)

    def _superseded(self, now: LeaseState) -> RunSuperseded:
        taken_by = now.holder or "a later run, which has finished"
        return RunSuperseded(
            f"{self.lease.holder} lost the sync lease (its fencing token, generation "
            f"{self.lease.generation}, is now {now.generation}, held by {taken_by})",
            token=self.lease.generation, holder=now.holder, generation=now.generation)

    def stop(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()


@receiver(post_save, sender=SyncRun, dispatch_uid="scheduling.note_run_on_lease")
def _note_run_on_lease(sender, instance: SyncRun, created: bool, **kwargs) -> None:
    keeper = getattr(_holding, "keeper", None)
    if created and keeper is not None and keeper.run_id is None:
        keeper.note_run(instance.pk)


def _record_takeover(lease: HeldLease) -> None:
    previous = lease.previous
    log.warning("sync lease taken over holder=%s from=%s run=%s expired_at=%s",
                lease.holder, previous.holder, previous.run_id, previous.expires_at)
    message = (f"the worker stopped during this run: {previous.holder} last renewed its lease "
               f"at {_local_time(previous.renewed_at)} and it expired at "
               f"{_local_time(previous.expires_at)}; taken over by {lease.holder}")
    if previous.run_id is not None:
        _record_stopped_run(previous.run_id, previous.holder, message)
    if previous.holder.startswith(_WORKER_PREFIX):
        _fail_task_of_stopped_worker(previous.holder.removeprefix(_WORKER_PREFIX), message)


def _fail_task_of_stopped_worker(worker_id: str, message: str) -> None:
    """Mark the sync task the dead worker had claimed as failed, not "running" forever.

    django-tasks-db never looks at a claimed task again; without this the task
    table would show the killed worker's task as running for good.
    """
    try:
        stuck = [task for task in DBTaskResult.objects.filter(
                     status=TaskResultStatus.RUNNING,
                     task_path__in=[job.task_path for job in JOBS.values()])
                 if task.worker_ids and task.worker_ids[-1] == worker_id]
        for task in stuck:
            DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.FAILED, finished_at=timezone.now(),
                exception_class_path=f"{__name__}.WorkerStopped", traceback=message)
    except DatabaseError as exc:
        # Bookkeeping only: the run goes ahead, the old task stays "running" in the table.
        log.error("could not mark the stopped worker's task failed worker=%s error=%s",
                  worker_id, exc)


def _record_stopped_run(run_id: int, holder: str, message: str) -> None:
    """Mark a run that is still "running" as failed, with the reason, if it still is."""
    now = timezone.now()
    try:
        with transaction.atomic():
            stopped = SyncRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
                status=RunStatus.FAILED, finished_at=now)
            if not stopped:
                return
            DirectoryRunResult.objects.filter(run_id=run_id, status=RunStatus.RUNNING).update(
                status=RunStatus.FAILED, finished_at=now, errors=[{"dn": "", "message": message}])
            InterruptedRun.objects.update_or_create(
                run_id=run_id, defaults={"holder": holder, "message": message, "recorded_at": now})
    except DatabaseError as exc:
        # Reached while an exception is already on its way (a broken transaction, a
        # lost database): say so and let the original error tell the story.
        log.error("could not record the stopped run run=%s error=%s", run_id, exc)
        return
    log.warning("sync run recorded as failed run=%s holder=%s reason=%s", run_id, holder, message)


def _record_superseded(run_id: int, holder: str, exc: RunSuperseded) -> RunReport:
    """Record that a run resumed after a takeover and rolled back; return its report.

    The takeover has already marked the run failed ("the worker stopped during
    this run ..."): that stays, and this adds what happened next. A run that was
    still "running" (its takeover could not see it) is marked failed here.
    """
    now = timezone.now()
    resumed = (f"{holder} resumed at {_local_time(now)}, found that it had lost the sync lease "
               f"(fencing token {exc.token}; now generation {exc.generation}"
               f"{', held by ' + exc.holder if exc.holder else ''}) and rolled back what it had "
               "not committed: superseded")
    with transaction.atomic():
        SyncRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=now)
        DirectoryRunResult.objects.filter(run_id=run_id, status=RunStatus.RUNNING).update(
            status=RunStatus.FAILED, finished_at=now, errors=[{"dn": "", "message": resumed}])
        interruption = InterruptedRun.objects.filter(run_id=run_id).first()
        if interruption is None:
            InterruptedRun.objects.create(run_id=run_id, holder=holder, message=resumed,
                                          recorded_at=now, superseded_at=now)
        else:
            interruption.message = f"{interruption.message}; then {resumed}"
            interruption.superseded_at = now
            interruption.save(update_fields=["message", "superseded_at"])
    log.error("sync run superseded run=%s holder=%s token=%s generation_now=%s holder_now=%s",
              run_id, holder, exc.token, exc.generation, exc.holder or "-")
    run = SyncRun.objects.get(pk=run_id)
    return RunReport(run, list(run.results.all()))


def _why_stopped(holder: str, exc: BaseException) -> str:
    if isinstance(exc, SystemExit | KeyboardInterrupt):
        return f"the worker stopped during this run: {holder} was told to stop"
    return f"the run stopped on an unexpected error in {holder}: {type(exc).__name__}"


def _release_quietly(lease: HeldLease) -> None:
    try:
        if not release(lease):
            log.error("sync lease was taken over before this run released it holder=%s",
                      lease.holder)
    except DatabaseError as exc:
        # The lease then expires by itself; the next run takes it over.
        log.error("could not release the sync lease holder=%s error=%s", lease.holder, exc)


def _local_time(value: datetime | None) -> str:
    if value is None:
        return "an unknown time"
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S %Z")
