"""A sync run: every syncable directory in turn, each in its own transaction, all recorded.

Per-entry problems are recorded and the run goes on; a failure of a
directory's configuration or connection fails that directory's part only,
rolls back whatever it had written (its watermark included), and the other
directories still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from ldap.ldapobject import LDAPObject

from profilesync.directories.models import Directory
from profilesync.directories.secrets import SecretUnreadable
from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.deleted_objects import DeletedObjectsUnavailable
from profilesync.ldapclient.errors import DirectoryError
from profilesync.ldapclient.rootdse import read_root_dse
from profilesync.ldapclient.syncrepl import SyncreplUnavailable

from . import fence, passes, usn
from .clock import directory_now
from .errors import DeactivationGuardTripped, PatternNotUnderstood, SyncRefused
from .fieldmap import build_attribute_map
from .importer import ImportCounts, paused_garbage_collector
from .models import (
    DataSourceSettings,
    DirectoryRunResult,
    DirectorySyncState,
    RunStatus,
    SyncMode,
    SyncRun,
)
from .planner_statistics import refresh_planner_statistics
from .progress import ThrottledProgress

log = logging.getLogger(__name__)

Progress = Callable[[str, ImportCounts], None]

DIRECTORY_FAILURES = (DirectoryError, DeactivationGuardTripped, SyncRefused, SecretUnreadable,
                      PatternNotUnderstood)


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
    mode: str | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Sync ``directories`` (default: every syncable one) and record the run.

    ``mode`` None follows the Data Sources settings: incremental when it is on
    (a directory without a watermark still gets its one full pass), full
    otherwise. ``"full"`` and ``"reconciliation"`` force that mode.
    ``progress(directory_name, counts)`` is called after every page.
    """
    data_sources = DataSourceSettings.load()
    if mode is None:
        mode = SyncMode.INCREMENTAL if data_sources.incremental_sync else SyncMode.FULL
    if directories is None:
        # Internal and remote-server directories are configuration, not sources: a run
        # over "all" skips them, and only a run that names one refuses it with the reason.
        chosen = [d for d in Directory.objects.all() if d.sync_refusal() is None]
    else:
        chosen = list(directories)
    run = SyncRun.objects.create(started_at=timezone.now(), mode=mode, forced=force,
                                 trigger=trigger)
    publish_progress = ThrottledProgress(run.pk)

    def report_progress(directory_name: str, counts: ImportCounts) -> None:
        publish_progress(directory_name, counts)
        if progress is not None:
            progress(directory_name, counts)

    results = [_sync_one(run, directory, mode, force, report_progress) for directory in chosen]
    if mode != SyncMode.RECONCILIATION:
        _advance_last_sync_date(data_sources)
    run.finished_at = timezone.now()
    run.status = (RunStatus.SUCCEEDED if all(r.status == RunStatus.SUCCEEDED for r in results)
                  else RunStatus.FAILED)
    with transaction.atomic():
        fence.check()  # a superseded run leaves the status the takeover wrote
        run.save(update_fields=["finished_at", "status"])
    return RunReport(run, results)


def _directory_mode(requested: str, state: DirectorySyncState) -> str:
    if requested == SyncMode.INCREMENTAL and state.watermark is None:
        return SyncMode.FULL
    return requested


def _sync_one(run: SyncRun, directory: Directory, requested_mode: str,
              force: bool, progress: Progress) -> DirectoryRunResult:
    state = DirectorySyncState.for_directory(directory)
    mode = _directory_mode(requested_mode, state)
    result = DirectoryRunResult.objects.create(
        run=run, directory=directory, directory_name=directory.name, mode=mode,
        started_at=timezone.now(), search_base=directory.search_base,
        filter_sent=directory.effective_user_filter,
        timestamp_pattern=directory.timestamp_pattern, watermark_before=state.watermark,
        usn_before=state.usn_watermark,
    )
    counts = ImportCounts()
    try:
        refusal = directory.sync_refusal()
        if refusal:
            raise SyncRefused(f"directory {directory.name!r} cannot be synced: {refusal}")
        # Connected before the transaction: on SQLite a transaction holds the only write
        # lock, which a slow or failing-over directory must not keep from everyone else.
        with connected(directory.connection_settings()) as conn, transaction.atomic():
            _run_passes(conn, directory, state, mode, force, counts, result,
                        partial(progress, directory.name))
            fence.check()  # a run that lost its lease rolls back here (fence.RunSuperseded)
            state.last_success_at = timezone.now()
            state.save()
        refresh_planner_statistics(directory, counts)
        counts.finish_errors()
        _apply_counts(result, counts)
        result.watermark_after = state.watermark
        result.usn_after = state.usn_watermark
        result.status = RunStatus.SUCCEEDED
    except DIRECTORY_FAILURES as exc:
        log.warning("directory sync failed run=%s directory=%s error=%s",
                    run.pk, directory.name, exc)
        result.status = RunStatus.FAILED
        result.errors = [{"dn": "", "message": str(exc)}]
        result.watermark_after = result.watermark_before
        result.usn_after = result.usn_before
    result.finished_at = timezone.now()
    result.save()
    return result


def _run_passes(conn: LDAPObject, directory: Directory, state: DirectorySyncState, mode: str,
                force: bool, counts: ImportCounts, result: DirectoryRunResult,
                progress: passes.ProgressCallback | None) -> None:
    """The passes of one directory; ``state`` is changed in memory, saved by the caller."""
    batch_size = settings.PROFILESYNC_SYNC_BATCH_SIZE
    attribute_map = build_attribute_map(directory)
    with paused_garbage_collector():
        root_dse = read_root_dse(conn)
        started = directory_now(conn, directory.search_base, root_dse,  # before reading anything
                                urls=directory.urls)
        result.watermark_source = started.source
        tracking = usn.plan_change_tracking(conn, directory, state, root_dse)
        if mode == SyncMode.INCREMENTAL and tracking.full_sync_reason:
            mode = result.mode = SyncMode.FULL
        result.change_tracking = tracking.report_line(mode)
        if mode == SyncMode.RECONCILIATION:
            result.filter_sent = passes.reconciliation_pass(
                conn, directory, attribute_map, counts, force=force, batch_size=batch_size)
            state.last_reconciled_at = timezone.now()
            return
        if mode == SyncMode.FULL:
            result.filter_sent = passes.full_pass(
                conn, directory, attribute_map, counts, force=force, batch_size=batch_size,
                progress=progress)
            state.last_full_sync_at = timezone.now()
        else:
            result.filter_sent = passes.incremental_pass(
                conn, directory, attribute_map, counts, state.watermark, progress=progress,
                filterstr=(None if tracking.since_usn is None
                           else usn.usn_incremental_filter(directory, tracking.since_usn)))
            new_fields = passes.new_field_mappings(attribute_map, state.field_mappings)
            if new_fields:
                passes.field_fill_pass(conn, directory, attribute_map, new_fields, counts)
                result.fields_filled = [f.key for f in new_fields]
            result.deletions_source = "scheduled reconciliation (no syncrepl here)"
            if usn.deletions_usable(directory, root_dse):
                result.deletions_source = _ad_deletions(conn, directory, root_dse, tracking,
                                                        state, counts, force, batch_size)
            elif passes.syncrepl_usable(directory, root_dse):
                cookie = bytes(state.syncrepl_cookie) if state.syncrepl_cookie else None
                try:
                    state.syncrepl_cookie = passes.syncrepl_deletion_pass(
                        conn, directory, cookie, counts, force=force, batch_size=batch_size)
                    result.deletions_source = "syncrepl (RFC 4533)"
                except SyncreplUnavailable as exc:
                    result.deletions_source = f"scheduled reconciliation ({exc})"
        state.field_mappings = [passes.field_mapping_id(f) for f in attribute_map.fields]
        state.watermark = started.moment
        usn.remember(state, tracking)


def _ad_deletions(conn: LDAPObject, directory: Directory, root_dse: dict[str, list[bytes]],
                  tracking: usn.ChangeTracking, state: DirectorySyncState, counts: ImportCounts,
                  force: bool, batch_size: int) -> str:
    """Deactivate what AD deleted since this run's lower bound; return the report line."""
    since = usn.deletion_since_filter(directory, tracking, state.watermark)
    try:
        return usn.deleted_objects_pass(conn, directory, root_dse, since, counts,
                                        force=force, batch_size=batch_size)
    except DeletedObjectsUnavailable as exc:
        return f"scheduled reconciliation ({exc})"


def _advance_last_sync_date(data_sources: DataSourceSettings) -> None:
    """Show as "Last LDAP sync date" the oldest watermark of the syncable directories.

    A directory whose part failed kept its old watermark, so the shown date
    never claims more than every directory has really read.
    """
    watermarks = [
        DirectorySyncState.for_directory(d).watermark
        for d in Directory.objects.all() if d.sync_refusal() is None
    ]
    if not watermarks:
        return
    oldest = None if any(w is None for w in watermarks) else min(watermarks)
    DataSourceSettings.objects.filter(pk=data_sources.pk).update(last_ldap_sync_date=oldest)


def _apply_counts(result: DirectoryRunResult, counts: ImportCounts) -> None:
    result.created = counts.created
    result.updated = counts.updated
    result.unchanged = counts.unchanged
    result.deactivated = counts.deactivated
    result.failed = counts.failed
    result.errors = counts.errors
