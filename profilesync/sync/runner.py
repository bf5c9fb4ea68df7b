"""A sync run: every syncable directory in turn, each in its own transaction, all recorded.

Per-entry problems are recorded and the run goes on. Any failure of a
directory's part (configuration, connection, the deactivation guard, or an
error nobody foresaw) fails that directory's part only: it is recorded there,
whatever that part had written is rolled back (its watermark included), and
the other directories still run. The run's status says whether every part
succeeded, and the report which did not.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from django.db import transaction
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.deleted_objects import DeletedObjectsUnavailable
from profilesync.ldapclient.errors import DirectoryError, UnexpectedSyncFailure, describe_ldap_error
from profilesync.ldapclient.rootdse import read_root_dse
from profilesync.ldapclient.syncrepl import SyncreplUnavailable

from . import fence, guard, passes, usn
from . import history as change_history
from .clock import directory_now
from .directory_pass import DirectoryPass
from .errors import DeactivationGuardTripped, SyncRefused
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

FIRST_IMPORT = "first import: full"
DATE_EMPTIED = ("full sync: the Last LDAP sync date is empty, so this run reads everyone and "
                "deactivates whoever is gone; the next run is incremental")


@dataclass
class RunReport:
    run: SyncRun
    results: list[DirectoryRunResult]
    # A dry run's guard verdict per directory name (see .dry_run); empty for a real run.
    guards: dict[str, dict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.run.status == RunStatus.SUCCEEDED

    @property
    def failed(self) -> list[str]:
        """Names of the directories whose part failed."""
        return [r.directory_name for r in self.results if r.status != RunStatus.SUCCEEDED]

    def as_json(self) -> dict:
        return {
            "ok": self.ok,
            "run": self.run.pk,
            "mode": self.run.mode,
            "failed": self.failed,
            "directories": {r.directory_name: r.as_report() for r in self.results},
        }


def run_sync(
    directories: Iterable[Directory] | None = None,
    *,
    force: bool = False,
    trigger: str = "cli",
    mode: str | None = None,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> RunReport:
    """Sync ``directories`` (default: every syncable one) and record the run.

    ``mode`` None follows the Data Sources settings: incremental when it is on
    (a directory without a watermark still gets its one full pass), full
    otherwise. ``"full"`` and ``"reconciliation"`` force that mode.
    ``progress(directory_name, counts)`` is called after every page.
    ``dry_run``: called by :func:`.dry_run.preview` inside a transaction it rolls
    back; the guard is weighed but never stops a part (its verdict is in the
    report's ``guards``), and nothing is published or analyzed outside the database.
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
    plans = [(d, _directory_mode(mode, DirectorySyncState.for_directory(d), data_sources))
             for d in chosen]
    if plans and all(m == SyncMode.FULL for _, (m, _) in plans):
        mode = SyncMode.FULL  # every part reads everyone: the run is a full one
    run = SyncRun.objects.create(started_at=timezone.now(), mode=mode, forced=force,
                                 trigger=trigger)
    publish_progress = ThrottledProgress(run.pk)

    def report_progress(directory_name: str, counts: ImportCounts) -> None:
        if not dry_run:  # a dry run's run number is rolled back, and may be reused
            publish_progress(directory_name, counts)
        if progress is not None:
            progress(directory_name, counts)

    guards: dict[str, dict] | None = {} if dry_run else None
    results = [_sync_one(run, directory, part_mode, reason, force, report_progress, guards)
               for directory, (part_mode, reason) in plans]
    if mode != SyncMode.RECONCILIATION:
        _advance_last_sync_date(data_sources)
    run.finished_at = timezone.now()
    run.status = (RunStatus.SUCCEEDED if all(r.status == RunStatus.SUCCEEDED for r in results)
                  else RunStatus.FAILED)
    with transaction.atomic():
        fence.check()  # a superseded run leaves the status the takeover wrote
        run.save(update_fields=["finished_at", "status"])
    return RunReport(run, results, guards or {})


def _directory_mode(requested: str, state: DirectorySyncState,
                    data_sources: DataSourceSettings) -> tuple[str, str]:
    """The mode of one directory's part, and why when it is not the one asked for.

    The seed's contract: an empty "Last LDAP sync date" means the next run is
    full, and a directory that never synced gets its first import in full,
    whatever date was entered for the others.
    """
    if requested != SyncMode.INCREMENTAL:
        return requested, ""
    if state.watermark is None and state.last_success_at is None:
        return SyncMode.FULL, FIRST_IMPORT
    if state.watermark is None or data_sources.last_ldap_sync_date is None:
        return SyncMode.FULL, DATE_EMPTIED
    return requested, ""


def _sync_one(run: SyncRun, directory: Directory, mode: str, mode_reason: str,
              force: bool, progress: Progress,
              guards: dict[str, dict] | None = None) -> DirectoryRunResult:
    state = DirectorySyncState.for_directory(directory)
    result = DirectoryRunResult.objects.create(
        run=run, directory=directory, directory_name=directory.name, mode=mode,
        mode_reason=mode_reason, started_at=timezone.now(), search_base=directory.search_base,
        filter_sent=directory.effective_user_filter,
        timestamp_pattern=directory.timestamp_pattern, watermark_before=state.watermark,
        usn_before=state.usn_watermark,
    )
    part: DirectoryPass | None = None
    try:
        refusal = directory.sync_refusal()
        if refusal:
            raise SyncRefused(f"directory {directory.name!r} cannot be synced: {refusal}")
        # Connected before the transaction: on SQLite a transaction holds the only write
        # lock, which a slow or failing-over directory must not keep from everyone else.
        with (connected(directory.connection_settings()) as conn,
              transaction.atomic(),
              paused_garbage_collector()):
            part = DirectoryPass(conn, directory, build_attribute_map(directory), force=force,
                                 progress=partial(progress, directory.name),
                                 counts=ImportCounts(history=change_history.ChangeLog(
                                     run.pk, directory.pk, directory.name)))
            _run_passes(part, state, mode, result)
            change_history.merge_duplicates(part.counts.history, part.counts)
            if guards is not None:
                from .dry_run import weigh_guard

                guards[directory.name] = weigh_guard(directory, part.counts, force=force)
            else:
                guard.check(directory, part.counts, force=force)
            fence.check()  # a run that lost its lease rolls back here (fence.RunSuperseded)
            state.last_success_at = timezone.now()
            state.save()
        if guards is None:
            refresh_planner_statistics(directory, part.counts)
        part.counts.finish_errors()
        _apply_counts(result, part.counts)
        result.notes = [*part.notes, *_deactivation_notes(part.counts)]
        result.watermark_after = state.watermark
        result.usn_after = state.usn_watermark
        result.status = RunStatus.SUCCEEDED
    except Exception as exc:  # every failure stays in this directory's part
        _record_failure(run, directory, result, exc)
        if part is not None:
            result.notes = list(part.notes)
    if part is not None and part.page_size_limit is not None:
        _store_page_size(directory, part.page_size_limit)
    result.finished_at = timezone.now()
    result.save()
    return result


def _record_failure(run: SyncRun, directory: Directory, result: DirectoryRunResult,
                    exc: Exception) -> None:
    if not isinstance(exc, DirectoryError):
        # Not foreseen: keep the traceback in the log, show only the type and the
        # server's diagnostic (describe_ldap_error never shows the request).
        log.exception("directory sync failed unexpectedly run=%s directory=%s", run.pk,
                      directory.name)
        exc = UnexpectedSyncFailure(f"unexpected error {type(exc).__name__}: "
                                    f"{describe_ldap_error(exc)}")
    else:
        log.warning("directory sync failed run=%s directory=%s error=%s",
                    run.pk, directory.name, exc)
    result.status = RunStatus.FAILED
    result.errors = [{"dn": "", "message": str(exc), "setting": exc.setting}]
    if isinstance(exc, DeactivationGuardTripped):
        result.would_deactivate = exc.would_deactivate
    result.watermark_after = result.watermark_before
    result.usn_after = result.usn_before


def _store_page_size(directory: Directory, allowed: int) -> None:
    """Keep the page size the server allowed, whether or not the part succeeded."""
    Directory.objects.filter(pk=directory.pk).update(page_size=allowed,
                                                     server_page_size_limit=allowed)
    directory.page_size = directory.server_page_size_limit = allowed


def _deactivation_notes(counts: ImportCounts) -> list[str]:
    return [f"deactivated {count}: {how}" for how, count in counts.deactivated_by.items() if count]


def _run_passes(p: DirectoryPass, state: DirectorySyncState, mode: str,
                result: DirectoryRunResult) -> None:
    """The passes of one directory; ``state`` is changed in memory, saved by the caller."""
    root_dse = read_root_dse(p.conn)
    started = directory_now(p.conn, p.directory.search_base, root_dse,  # before reading anything
                            urls=p.directory.urls)
    result.watermark_source = started.source
    tracking = usn.plan_change_tracking(p.conn, p.directory, state, root_dse)
    if mode == SyncMode.INCREMENTAL and tracking.full_sync_reason:
        mode = result.mode = SyncMode.FULL
    result.change_tracking = tracking.report_line(mode)
    if mode == SyncMode.RECONCILIATION:
        result.filter_sent = passes.reconciliation_pass(p)
        state.last_reconciled_at = timezone.now()
        return
    if mode == SyncMode.FULL:
        result.filter_sent = passes.full_pass(p)
        state.last_full_sync_at = timezone.now()
    else:
        result.filter_sent = passes.incremental_pass(
            p, state.watermark, filterstr=(None if tracking.since_usn is None
                                           else usn.usn_incremental_filter(p.directory,
                                                                           tracking.since_usn)))
        new_fields = passes.new_field_mappings(p, state.field_mappings)
        if new_fields:
            passes.field_fill_pass(p, new_fields)
            result.fields_filled = [f.key for f in new_fields]
        result.deletions_source = _find_deletions(p, state, root_dse, tracking)
    state.field_mappings = [passes.field_mapping_id(f) for f in p.attribute_map.fields]
    state.watermark = started.moment
    usn.remember(state, tracking)


def _find_deletions(p: DirectoryPass, state: DirectorySyncState, root_dse: dict[str, list[bytes]],
                    tracking: usn.ChangeTracking) -> str:
    """Deactivate whoever is gone since the last run; return how they were found.

    Active Directory: its deleted-objects search. OpenLDAP: syncrepl. Where
    neither can be used (not offered, refused for a size limit or access),
    a paged search of every user's unique ID, so deletions never wait for the
    nightly reconciliation.
    """
    if usn.deletions_usable(p.directory, root_dse):
        since = usn.deletion_since_filter(p.directory, tracking, state.watermark)
        try:
            return usn.deleted_objects_pass(p, root_dse, since)
        except DeletedObjectsUnavailable as exc:
            why = f"the deleted-objects search is unavailable: {exc}"
    elif passes.syncrepl_usable(p.directory, root_dse):
        cookie = bytes(state.syncrepl_cookie) if state.syncrepl_cookie else None
        try:
            state.syncrepl_cookie = passes.syncrepl_deletion_pass(p, cookie)
            return "syncrepl (RFC 4533)"
        except SyncreplUnavailable as exc:
            why = f"syncrepl refused: {exc}"
    else:
        why = "the directory offers no syncrepl"
    passes.id_sweep_pass(p)
    return f"paged search of unique IDs ({why})"


def _advance_last_sync_date(data_sources: DataSourceSettings) -> None:
    """Show as "Last LDAP sync date" the oldest watermark of the syncable directories.

    A directory whose part failed kept its old watermark, so the shown date
    never claims more than every directory has really read. A directory that
    never synced has no watermark and is left out: its next run is its first
    import anyway, and counting it would empty the date, which makes every
    directory's next run a full one.
    """
    watermarks = [
        DirectorySyncState.for_directory(d).watermark
        for d in Directory.objects.all() if d.sync_refusal() is None
    ]
    present = [w for w in watermarks if w is not None]
    if not watermarks:
        return
    oldest = min(present) if present else None
    DataSourceSettings.objects.filter(pk=data_sources.pk).update(last_ldap_sync_date=oldest)


def _apply_counts(result: DirectoryRunResult, counts: ImportCounts) -> None:
    """Copy the part's counts onto its report row."""
    result.created = counts.created
    result.updated = counts.updated
    result.unchanged = counts.unchanged
    result.deactivated = counts.deactivated
    result.failed = counts.failed
    result.errors = counts.errors
