"""A sync run: every syncable directory in turn, each in its own transaction, all recorded.

Per-entry problems are recorded and the run goes on; a failure of a
directory's configuration or connection fails that directory's part only,
rolls back whatever it had written, and the other directories still run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.directories.secrets import SecretUnreadable
from profilesync.ldapclient.errors import DirectoryError

from .errors import DeactivationGuardTripped, SyncRefused
from .importer import ImportCounts, import_directory
from .models import DirectoryRunResult, RunStatus, SyncMode, SyncRun

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    run: SyncRun
    results: list[DirectoryRunResult]

    @property
    def ok(self) -> bool:
        return self.run.status == RunStatus.SUCCEEDED

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "run": self.run.pk,
            "mode": self.run.mode,
            "directories": {r.directory_name: r.as_report() for r in self.results},
        }


def run_sync(
    directories: Iterable[Directory] | None = None,
    *,
    force: bool = False,
    trigger: str = "cli",
) -> RunReport:
    """Run a full sync of ``directories`` (default: all) and record it."""
    chosen = list(directories) if directories is not None else list(Directory.objects.all())
    run = SyncRun.objects.create(started_at=timezone.now(), mode=SyncMode.FULL, forced=force,
                                 trigger=trigger)
    results = [_sync_one(run, directory, force) for directory in chosen]
    run.finished_at = timezone.now()
    run.status = (RunStatus.SUCCEEDED if all(r.status == RunStatus.SUCCEEDED for r in results)
                  else RunStatus.FAILED)
    run.save(update_fields=["finished_at", "status"])
    return RunReport(run, results)


def _sync_one(run: SyncRun, directory: Directory, force: bool) -> DirectoryRunResult:
    result = DirectoryRunResult.objects.create(
        run=run, directory=directory, directory_name=directory.name,
        started_at=timezone.now(), search_base=directory.search_base,
        filter_sent=directory.effective_user_filter,
    )
    try:
        refusal = directory.sync_refusal()
        if refusal:
            raise SyncRefused(f"directory {directory.name!r} cannot be synced: {refusal}")
        with transaction.atomic():
            counts, filterstr = import_directory(
                directory, force=force, batch_size=settings.PROFILESYNC_SYNC_BATCH_SIZE
            )
        _apply_counts(result, counts)
        result.filter_sent = filterstr
        result.status = RunStatus.SUCCEEDED
    except (DirectoryError, DeactivationGuardTripped, SyncRefused, SecretUnreadable) as exc:
        log.warning("directory sync failed run=%s directory=%s error=%s",
                    run.pk, directory.name, exc)
        result.status = RunStatus.FAILED
        result.errors = [{"dn": "", "message": str(exc)}]
    result.finished_at = timezone.now()
    result.save()
    return result


def _apply_counts(result: DirectoryRunResult, counts: ImportCounts) -> None:
    result.created = counts.created
    result.updated = counts.updated
    result.unchanged = counts.unchanged
    result.deactivated = counts.deactivated
    result.failed = counts.failed
    result.errors = counts.errors
