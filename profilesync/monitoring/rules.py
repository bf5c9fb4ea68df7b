"""The alert rules: which conditions hold right now, each named by a stable key.

A rule is a plain function from the database's state to ``Condition`` values;
``incidents`` turns a condition that appears into an incident and one that
disappears into its resolution. Every condition names the directory, the cause
in a sentence an operator can act on, and the page to open.

- ``failed_run``: a directory's latest finished sync failed (not by the guard);
- ``guard_tripped``: a directory's latest sync was stopped by the deactivation guard;
- ``sync_stale``: no successful sync of a syncable directory for longer than
  ``PROFILESYNC_ALERT_SYNC_STALE_SECONDS`` (default: twice the sync job's schedule);
- ``writeback_refused``: write-backs the directory refused for good wait for the person;
- ``writeback_pending_old``: a write-back waits longer than
  ``PROFILESYNC_ALERT_PENDING_WRITE_SECONDS`` (default 24 hours);
- ``live_down``: a directory's live listener should run but has been reconnecting, or run
  by no worker, for longer than ``PROFILESYNC_ALERT_LIVE_DOWN_SECONDS`` (default 10 minutes;
  see ``live_listeners``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Min
from django.urls import NoReverseMatch, reverse

from .guard_trips import guard_trip

log = logging.getLogger(__name__)

RULE_TITLES = {
    "test": "Test alert",
    "failed_run": "Sync failed",
    "guard_tripped": "Deactivation guard stopped a sync",
    "sync_stale": "No successful sync",
    "writeback_refused": "Write-backs refused by the directory",
    "writeback_pending_old": "Write-backs waiting too long",
    "live_down": "Live updates down",
}


@dataclass(frozen=True)
class Condition:
    rule: str
    directory: str
    cause: str
    page: str  # a path of this site; messages make it absolute with PROFILESYNC_BASE_URL
    details: dict = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.rule}:{self.directory}"


def _path(name: str, *args: object, fallback: str = "/admin/sync/") -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return fallback


def failed_runs(now: datetime) -> list[Condition]:
    from profilesync.sync.models import RunStatus

    conditions = []
    for latest in _latest_results():
        if latest.status != RunStatus.FAILED:
            continue
        trip = guard_trip(latest.errors)
        page = _path("sync-run", latest.run_id, fallback=f"/admin/sync/{latest.run_id}/")
        if trip is not None:
            # Who: the result's own list where the report keeps one, else the error entry's.
            people = [str(p) for p in getattr(latest, "would_deactivate", None) or []]
            people = people or trip.would_deactivate
            details = {"run": latest.run_id, "would_deactivate": people}
            cause = f"run {latest.run_id}: {trip.message}"
            if people:
                shown = ", ".join(people[:20])
                more = len(people) - 20
                cause += f". Would have been deactivated: {shown}" + (f" and {more} more" if more > 0 else "")
            conditions.append(Condition("guard_tripped", latest.directory_name, cause, page, details))
            continue
        message = next((str(e.get("message", "")) for e in latest.errors or []
                        if isinstance(e, dict) and e.get("message")), "no error was recorded")
        conditions.append(Condition(
            "failed_run", latest.directory_name,
            f"run {latest.run_id} ({latest.mode}) failed: {message}", page,
            {"run": latest.run_id, "mode": latest.mode}))
    return conditions


def _latest_results() -> list:
    """Each directory's latest finished result (one query for the ids, one for the rows).

    Results of a directory that was deleted since are left out: its failure is moot.
    """
    from django.db.models import Max

    from profilesync.sync.models import DirectoryRunResult, RunStatus

    latest_ids = (DirectoryRunResult.objects.exclude(status=RunStatus.RUNNING)
                  .filter(directory__isnull=False).values("directory_name").order_by().annotate(last=Max("id"))
                  .values_list("last", flat=True))
    return list(DirectoryRunResult.objects.filter(id__in=list(latest_ids)).order_by("directory_name"))


def sync_schedule_interval(now: datetime) -> timedelta:
    """The longest gap between the sync job's next due times: what "its schedule" means."""
    from profilesync.scheduling.cron import parse
    from profilesync.scheduling.jobs import BULK_PROFILE_UPDATE
    from profilesync.scheduling.schedules import next_due_times, schedule_of

    times = next_due_times(parse(schedule_of(BULK_PROFILE_UPDATE).cron), now, 25)
    return max(later - earlier for earlier, later in zip(times, times[1:], strict=False))


def stale_threshold(now: datetime) -> timedelta:
    configured = settings.PROFILESYNC_ALERT_SYNC_STALE_SECONDS
    if configured not in ("", None):
        return timedelta(seconds=float(configured))
    return 2 * sync_schedule_interval(now)


def stale_syncs(now: datetime) -> list[Condition]:
    from profilesync.directories.models import Directory
    from profilesync.sync.models import DirectorySyncState

    threshold = stale_threshold(now)
    last_success = dict(DirectorySyncState.objects.values_list("directory_id", "last_success_at"))
    conditions = []
    for directory in Directory.objects.order_by("name"):
        if directory.sync_refusal() is not None:
            continue
        since = last_success.get(directory.pk) or directory.created_at
        if now - since <= threshold:
            continue
        if last_success.get(directory.pk):
            what = f"no successful sync since {since:%Y-%m-%d %H:%M} UTC"
        else:
            what = f"never synced successfully since it was added on {since:%Y-%m-%d %H:%M} UTC"
        conditions.append(Condition(
            "sync_stale", directory.name,
            f"{what} (more than {_span(threshold)}); check that `profilesync worker` runs and the "
            "sync report for failed runs", _path("sync-report"),
            {"last_success": since.isoformat(), "threshold_seconds": threshold.total_seconds()}))
    return conditions


def refused_writes(now: datetime) -> list[Condition]:
    from profilesync.writeback.models import PendingStatus, PendingWrite

    rows = (PendingWrite.objects.filter(status=PendingStatus.REFUSED)
            .values("profile__directory__name").order_by().annotate(n=Count("id")))
    conditions = []
    for row in rows:
        name = row["profile__directory__name"]
        example = (PendingWrite.objects.filter(status=PendingStatus.REFUSED,
                                               profile__directory__name=name)
                   .select_related("profile").order_by("-updated_at").first())
        cause = (f"{row['n']} write-back(s) refused by the directory for good; latest: "
                 f"{example.profile.username}'s {example.attribute}: {example.reason}")
        conditions.append(Condition("writeback_refused", name, cause,
                                    _path("write-audit", fallback="/admin/write-back/audit"),
                                    {"refused": row["n"]}))
    return conditions


def old_pending_writes(now: datetime) -> list[Condition]:
    from profilesync.writeback.models import PendingStatus, PendingWrite

    limit = timedelta(seconds=settings.PROFILESYNC_ALERT_PENDING_WRITE_SECONDS)
    rows = (PendingWrite.objects.filter(status=PendingStatus.PENDING, created_at__lt=now - limit)
            .values("profile__directory__name").order_by()
            .annotate(n=Count("id"), oldest=Min("created_at")))
    return [Condition(
        "writeback_pending_old", row["profile__directory__name"],
        f"{row['n']} write-back(s) waiting for the directory for more than {_span(limit)} "
        f"(oldest since {row['oldest']:%Y-%m-%d %H:%M} UTC): the directory is unreachable for "
        "write-backs; check its connection (Directories page, Test connection)",
        _path("write-audit", fallback="/admin/write-back/audit"),
        {"pending": row["n"], "oldest": row["oldest"].isoformat()}) for row in rows]


def live_listeners_down(now: datetime) -> list[Condition]:
    from django.core.exceptions import ImproperlyConfigured

    from .live_listeners import DEFAULT_DOWN_SECONDS, down_threshold, listener_views

    try:
        threshold = down_threshold()
    except ImproperlyConfigured as exc:  # named by `profilesync check`; the other rules still run
        log.error("%s; using %g s", exc, DEFAULT_DOWN_SECONDS)
        threshold = timedelta(seconds=DEFAULT_DOWN_SECONDS)
    if threshold is None:
        return []
    conditions = []
    for view in listener_views(now):
        if view.down_since is None or now - view.down_since <= threshold:
            continue
        since = f"{view.down_since:%Y-%m-%d %H:%M} UTC"
        if view.holder:
            cause = (f"the live listener has been reconnecting since {since} (more than "
                     f"{_span(threshold)}): {view.message or 'no reason was recorded'}; changes "
                     "in the directory reach profiles only at the next scheduled sync until it "
                     "is back; check the directory's connection (Test connection)")
        else:
            cause = (f"no worker has run the live listener since {since} (more than "
                     f"{_span(threshold)}); check that `profilesync worker` runs (not "
                     "`--batch`), or set live updates off for this directory")
        page = _path("admin-directory-edit", view.directory_pk,
                     fallback=f"/admin/directories/{view.directory_pk}/")
        conditions.append(Condition(
            "live_down", view.directory, cause, page,
            {"state": view.state, "holder": view.holder, "down_since": view.down_since.isoformat(),
             "threshold_seconds": threshold.total_seconds()}))
    return conditions


def _span(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:g} hours"
    if seconds >= 120:
        return f"{seconds / 60:g} minutes"
    return f"{seconds:g} seconds"


RULES: tuple[Callable[[datetime], list[Condition]], ...] = (
    failed_runs, stale_syncs, refused_writes, old_pending_writes, live_listeners_down)


def current_conditions(now: datetime) -> list[Condition]:
    return [condition for rule in RULES for condition in rule(now)]
