"""Apply what a listener received: the importer of a run, the guard, the cookie, one transaction.

A batch of pushed changes is a tiny incremental run: its entries go through
:func:`~profilesync.sync.importer.plan_page` and
:func:`~profilesync.sync.importer.write_plan` (mapping, pictures, search
text, history), deletions through the same deactivation as a run's, and the
deactivation guard weighs them with its 24-hour window. The new cookie is
stored in the same transaction, so a crash before the commit replays the
batch from the old cookie and a crash after it never replays it.

A batch that changed something is recorded as a run (trigger ``live``) with
its directory result, so the sync report shows it and the guard's rolling
window counts its deactivations like any run's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.ldapclient.search import Entry
from profilesync.profiles.models import Profile
from profilesync.scheduling.clock import database_now
from profilesync.scheduling.exclusive import SYNC_LEASE
from profilesync.scheduling.lease import read_lease
from profilesync.sync import fence, guard
from profilesync.sync import history as change_history
from profilesync.sync.errors import DeactivationGuardTripped
from profilesync.sync.fieldmap import build_attribute_map
from profilesync.sync.importer import ImportCounts, KnownProfiles, deactivate, plan_page, write_plan
from profilesync.sync.models import (
    DirectoryRunResult,
    DirectorySyncState,
    RunStatus,
    SyncMode,
    SyncRun,
)

log = logging.getLogger(__name__)

TRIGGER = "live"
BY_LIVE_DELETE = "reported deleted or out of the filter by the live listener"
BY_LIVE_PRESENT = "not listed by the directory when the live listener caught up"


@dataclass
class Changes:
    """What to apply: entries (by unique ID), deleted unique IDs, and optionally the full list.

    ``present`` (every unique ID the directory still lists) makes the batch a
    catch-up: active profiles not in it and not changed are gone.
    """

    entries: list[Entry] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    present: set[str] | None = None
    cookie: bytes | None = None
    note: str = ""

    @property
    def empty(self) -> bool:
        return not self.entries and not self.deleted and self.present is None


@dataclass
class Applied:
    counts: ImportCounts
    run_id: int | None


def wait_for_scheduled_run(stop: Callable[[], bool], *, every: float = 0.2,
                           waiting: Callable[[str], None] | None = None) -> None:
    """Return once no run holds the sync lease (or ``stop()``): a live change waits for a run.

    A run writing the directory holds its transaction for the whole part; a
    change applied beside it could be overwritten by the run's older read.
    Waiting costs the change at most one run's length; the run's own
    incremental search sees the change too, so nothing is lost either way.
    """
    told = False
    while not stop():
        state = read_lease(SYNC_LEASE)
        if not state.held or state.expired(database_now()):
            return
        if waiting is not None and not told:
            waiting(f"a change waits for the sync run held by {state.holder} to finish")
            told = True
        time.sleep(every)


def apply_changes(directory: Directory, changes: Changes, *,
                  fence_check: Callable[[], None] | None = None) -> Applied:
    """Apply ``changes`` in one transaction; raise DeactivationGuardTripped (rolled back)."""
    started = timezone.now()
    counts = ImportCounts()
    attribute_map = build_attribute_map(directory)
    try:
        with transaction.atomic():
            # The live run exists first so the change history can name it; it is kept
            # only when the batch changed someone (a cookie-only batch leaves no run).
            run = SyncRun.objects.create(started_at=started, mode=SyncMode.INCREMENTAL,
                                         trigger=TRIGGER, status=RunStatus.RUNNING)
            counts.history = change_history.ChangeLog(run.pk, directory.pk, directory.name)
            if changes.entries:
                known = KnownProfiles(directory, sweep=False)
                write_plan(plan_page(changes.entries, directory, attribute_map, known, counts),
                           directory)
            active = Profile.objects.filter(directory=directory, active=True)
            if changes.deleted:
                gone = list(active.filter(unique_id__in=list(changes.deleted))
                            .values_list("pk", flat=True))
                deactivate(gone, counts, batch_size=1000, how=BY_LIVE_DELETE)
            if changes.present is not None:
                changed = {_decoded_id(directory, attribute_map, entry) for entry in changes.entries}
                gone = [pk for uid, pk in active.values_list("unique_id", "pk")
                        if uid not in changes.present and uid not in changed]
                deactivate(gone, counts, batch_size=1000, how=BY_LIVE_PRESENT)
            change_history.merge_duplicates(counts.history, counts)
            guard.check(directory, counts, force=False)
            if fence_check is not None:
                fence_check()
            fence.check()
            if changes.cookie is not None:
                DirectorySyncState.objects.filter(directory=directory).update(
                    syncrepl_cookie=changes.cookie)
            if _changed(counts):
                run_id = _record(run, directory, counts, changes, started)
            else:
                run.delete()
                run_id = None
    except DeactivationGuardTripped as exc:
        _record_refused(directory, counts, changes, started, exc)
        raise
    counts.finish_errors()
    return Applied(counts, run_id)


def _decoded_id(directory: Directory, attribute_map, entry: Entry) -> str | None:
    values = {k.lower(): v for k, v in entry[1].items()}.get(attribute_map.unique_id_attribute)
    if not values:
        return None
    try:
        return directory.vendor_info.decode_unique_id(values[0])
    except (ValueError, UnicodeDecodeError):
        return None


def _changed(counts: ImportCounts) -> bool:
    return bool(counts.created or counts.updated or counts.deactivated or counts.failed)


def _record(run: SyncRun, directory: Directory, counts: ImportCounts, changes: Changes,
            started) -> int:
    run.finished_at = timezone.now()
    run.status = RunStatus.SUCCEEDED
    run.save(update_fields=["finished_at", "status"])
    _result(run, directory, counts, changes, started, RunStatus.SUCCEEDED)
    return run.pk


def _result(run: SyncRun, directory: Directory, counts: ImportCounts, changes: Changes, started,
            status: str, errors: list | None = None, would: list | None = None) -> None:
    notes = [f"deactivated {n}: {how}" for how, n in counts.deactivated_by.items() if n]
    if changes.note:
        notes.insert(0, changes.note)
    DirectoryRunResult.objects.create(
        run=run, directory=directory, directory_name=directory.name, status=status,
        mode=SyncMode.INCREMENTAL, started_at=started, finished_at=timezone.now(),
        created=counts.created, updated=counts.updated, unchanged=counts.unchanged,
        deactivated=counts.deactivated if status == RunStatus.SUCCEEDED else 0,
        failed=counts.failed, errors=errors if errors is not None else counts.errors[:100],
        search_base=directory.search_base, filter_sent=directory.effective_user_filter,
        change_tracking="live: changes pushed or polled by the listener",
        notes=notes, would_deactivate=would or [])


def _record_refused(directory: Directory, counts: ImportCounts, changes: Changes, started,
                    exc: DeactivationGuardTripped) -> None:
    """The guard stopped a batch: a failed live run says who would have gone, and why."""
    with transaction.atomic():
        run = SyncRun.objects.create(started_at=started, finished_at=timezone.now(),
                                     mode=SyncMode.INCREMENTAL, trigger=TRIGGER,
                                     status=RunStatus.FAILED)
        _result(run, directory, counts, changes, started, RunStatus.FAILED,
                errors=[{"dn": "", "message": str(exc), "setting": exc.setting}],
                would=exc.would_deactivate)
    log.warning("live changes stopped by the deactivation guard directory=%s error=%s",
                directory.name, exc)
