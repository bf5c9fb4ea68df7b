"""The task a worker runs for "Bulk profile update (LDAP sync)": a claimed slot or "run now"."""

from __future__ import annotations

import logging

from django_tasks import TaskContext, TaskResult, task

from profilesync.directories.models import Directory
from profilesync.sync.models import SyncMode

from .exclusive import (
    SyncAlreadyRunning,
    SyncSuperseded,
    run_sync_exclusively,
    superseded_story,
    worker_holder,
)

log = logging.getLogger(__name__)


@task(takes_context=True)
def bulk_profile_update(context: TaskContext, trigger: str = "schedule", slot: str | None = None,
                        directory_names: list[str] | None = None, force: bool = False,
                        mode: str | None = None) -> dict:
    """Sync every syncable directory (or the named ones) under the cluster-wide lease.

    ``mode`` None follows the Data Sources settings (incremental or full), as
    ``runner.run_sync`` does.

    When a sync is already running the task ends without running another: the
    running one is doing the same work, and the next slot comes soon enough.
    """
    return _run_under_lease(context, trigger=trigger, slot=slot, directory_names=directory_names,
                            force=force, mode=mode)


@task(takes_context=True)
def ldap_reconciliation(context: TaskContext, trigger: str = "schedule",
                        slot: str | None = None) -> dict:
    """Deactivate users deleted from, or gone from the filter of, every syncable directory.

    Its guard is the full sync's: a reconciliation that would deactivate more
    than a directory's limit deactivates nobody and fails that directory.
    """
    return _run_under_lease(context, trigger=trigger, slot=slot, directory_names=None,
                            force=False, mode=SyncMode.RECONCILIATION)


@task(takes_context=True)
def retry_pending_writes(context: TaskContext, trigger: str = "schedule",
                         slot: str | None = None) -> dict:
    """Retry the write-backs whose backoff has passed (no sync lease: writes are per entry)."""
    from profilesync.writeback.retry import retry_due_writes

    counts = retry_due_writes()
    return {"written": counts.written, "still_pending": counts.still_pending,
            "refused": counts.refused, "slot": slot}


@task(takes_context=True)
def prune_change_history(context: TaskContext, trigger: str = "schedule",
                         slot: str | None = None) -> dict:
    """Delete change history older than PROFILESYNC_CHANGE_HISTORY_DAYS."""
    from profilesync.sync.history import prune

    return {"deleted": prune(), "slot": slot}


def _run_under_lease(context: TaskContext, *, trigger: str, slot: str | None,
                     directory_names: list[str] | None, force: bool, mode: str | None) -> dict:
    worker_ids = context.task_result.worker_ids
    holder = worker_holder(worker_ids[-1]) if worker_ids else None
    directories = None
    if directory_names is not None:
        directories = list(Directory.objects.filter(name__in=directory_names))
    try:
        report = run_sync_exclusively(directories, force=force, trigger=trigger, mode=mode,
                                      lease_holder=holder)
    except SyncAlreadyRunning as exc:
        log.warning("sync not started trigger=%s slot=%s reason=%s", trigger, slot, exc)
        return {"ran": False, "reason": str(exc), "slot": slot}
    story = None if report.ok else superseded_story(report.run)
    if story is not None:
        raise SyncSuperseded(f"run {report.run.pk}: {story}")
    return {"ran": True, "run": report.run.pk, "status": report.run.status, "slot": slot}


def enqueue_sync(*, trigger: str = "manual", directory_names: list[str] | None = None,
                 force: bool = False, mode: str | None = None) -> TaskResult:
    """"Run now": queue the same task the schedule queues, for the next free worker."""
    return bulk_profile_update.enqueue(trigger=trigger, directory_names=directory_names,
                                       force=force, mode=mode)
