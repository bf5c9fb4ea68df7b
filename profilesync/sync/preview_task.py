"""The Sync report page's "Preview": a dry run (:mod:`.dry_run`) in a worker, as "Run now" is.

The dry run's own writes are rolled back, so its progress cannot live in the
database until it ends: it goes to the cache (files on one machine, Redis
across several) under the preview's number, at most once a second, and the
page reads it from there. The result is stored on the ``SyncPreview`` row once
the dry run has rolled back.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils import timezone
from django_tasks import task

from .dry_run import preview
from .importer import ImportCounts
from .models import RunStatus, SyncPreview
from .progress import TTL_SECONDS, ThrottledProgress

log = logging.getLogger(__name__)


def _key(preview_id: int) -> str:
    return f"profilesync:sync-preview:{preview_id}"


def read_preview_progress(preview_id: int) -> dict[str, dict[str, int]]:
    return cache.get(_key(preview_id)) or {}


class _PreviewProgress(ThrottledProgress):
    """:class:`~.progress.ThrottledProgress` under the preview's key, not a run's."""

    def __call__(self, directory_name: str, counts: ImportCounts) -> None:
        now = self.clock()
        last = self._last.get(directory_name)
        if last is not None and now - last < self.interval:
            return
        self._last[directory_name] = now
        progress = cache.get(_key(self.run_id)) or {}
        progress[directory_name] = {
            "read": counts.created + counts.updated + counts.unchanged + counts.failed,
            "created": counts.created, "updated": counts.updated,
            "deactivated": counts.deactivated, "unchanged": counts.unchanged}
        cache.set(_key(self.run_id), progress, TTL_SECONDS)


def start_preview(requested_by: str):
    """Record a preview and queue it for the next free worker; return the row."""
    row = SyncPreview.objects.create(requested_at=timezone.now(), requested_by=requested_by)
    run_preview.enqueue(preview_id=row.pk)
    return row


@task()
def run_preview(preview_id: int) -> dict:
    row = SyncPreview.objects.get(pk=preview_id)
    try:
        result = preview(progress=_PreviewProgress(preview_id))
    except Exception as exc:  # recorded on the page; the traceback in the log
        log.exception("sync preview failed preview=%s", preview_id)
        row.status, row.error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
    else:
        row.summary = result.as_json()
        for name, verdict in result.guards.items():
            row.summary["directories"][name]["guard"]["message"] = verdict.get("message", "")
        row.changes = result.changes
        row.status = RunStatus.SUCCEEDED if result.report.ok else RunStatus.FAILED
    row.finished_at = timezone.now()
    row.save()
    cache.delete(_key(preview_id))
    return {"preview": preview_id, "status": row.status}
