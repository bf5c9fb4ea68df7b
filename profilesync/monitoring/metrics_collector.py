"""The metrics computed from the database when ``/metrics`` is scraped.

Why at scrape time rather than counted as things happen: the tables already
record every run, profile and write-back, for every node, and survive restarts.
Any node answers with the same cluster-wide figures, a counter never resets
because a process restarted, and nothing in the sync or write-back code has to
remember to count. Each figure is one aggregate query over small tables (runs,
pending writes, audit) or one indexed count over profiles.

A failing database does not fail the scrape: ``profilesync_database_up`` turns
0 and the rest is left out, so the alert can say what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

from django.db import DatabaseError
from django.db.models import Count, DurationField, ExpressionWrapper, F, Max, Min, Q, Sum
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

# Sync runs last from a second (incremental, nothing changed) to an hour (a large full sync).
DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def _seconds(value: timedelta | float | int | None) -> float:
    if value is None:
        return 0.0
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) / 1_000_000  # SQLite hands back a duration sum as microseconds


class DatabaseCollector(Collector):
    def collect(self) -> Iterator:
        up = GaugeMetricFamily("profilesync_database_up",
                               "1 when the database answered this scrape, else 0")
        try:
            families = list(self._families())
        except DatabaseError as exc:
            log.warning("metrics from the database unavailable error=%s", type(exc).__name__)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _families(self) -> Iterator:
        yield from _sync_runs()
        yield from _profiles()
        yield from _writebacks()
        yield from _workers()
        yield from _live_listeners()
        yield from _incidents()


# The run figures change only when a directory's run starts or ends, and recomputing them
# is the costly part of a scrape (the duration histogram over every result: 0.6 s for
# 5,000 results on SQLite, measured by bench/metrics_scrape.py). Each process keeps the
# last answer with a fingerprint of the results table and recomputes only when it moved.
# Per process, nothing shared: a process that never computed simply computes.
_run_figures: dict = {"fingerprint": None, "families": []}


def _sync_runs() -> Iterator:
    from profilesync.sync.models import DirectoryRunResult, DirectorySyncState, RunStatus

    fingerprint = tuple(DirectoryRunResult.objects.aggregate(
        rows=Count("id"), last=Max("id"), finished=Max("finished_at"),
        running=Count("id", filter=Q(status=RunStatus.RUNNING))).values())
    if _run_figures["fingerprint"] != fingerprint:
        _run_figures["families"] = list(_run_result_families())
        _run_figures["fingerprint"] = fingerprint
    yield from _run_figures["families"]

    last = GaugeMetricFamily("profilesync_sync_last_success_timestamp_seconds",
                             "When each directory last synced successfully (Unix time)",
                             labels=["directory"])
    for name, when in (DirectorySyncState.objects.filter(last_success_at__isnull=False)
                       .values_list("directory__name", "last_success_at")):
        last.add_metric([name], when.timestamp())
    yield last


def _run_result_families() -> Iterator:
    from profilesync.sync.models import DirectoryRunResult, RunStatus

    runs = CounterMetricFamily("profilesync_sync_runs", "Directory syncs finished, by directory, "
                               "mode and outcome (succeeded or failed)",
                               labels=["directory", "mode", "outcome"])
    finished = DirectoryRunResult.objects.exclude(status=RunStatus.RUNNING)
    for row in (finished.values("directory_name", "mode", "status").annotate(n=Count("id"))
                .order_by()):
        runs.add_metric([row["directory_name"], row["mode"], row["status"]], row["n"])
    yield runs

    running = GaugeMetricFamily("profilesync_sync_running", "Directory syncs in progress",
                                labels=["directory"])
    for row in (DirectoryRunResult.objects.filter(status=RunStatus.RUNNING)
                .values("directory_name").annotate(n=Count("id")).order_by()):
        running.add_metric([row["directory_name"]], row["n"])
    yield running

    yield _duration_histogram(finished.filter(finished_at__isnull=False))

    read = CounterMetricFamily("profilesync_sync_entries_read", "Directory entries read by syncs "
                               "(created, updated, unchanged or failed)", labels=["directory"])
    written = CounterMetricFamily("profilesync_sync_entries_written", "Profiles written by syncs, "
                                  "by change", labels=["directory", "change"])
    failed = CounterMetricFamily("profilesync_sync_entries_failed", "Directory entries a sync "
                                 "could not import (no unique ID, duplicate, ...)",
                                 labels=["directory"])
    totals = (finished.values("directory_name").order_by()
              .annotate(created=Sum("created"), updated=Sum("updated"), unchanged=Sum("unchanged"),
                        deactivated=Sum("deactivated"), failed=Sum("failed")))
    for row in totals:
        name = row["directory_name"]
        read.add_metric([name], row["created"] + row["updated"] + row["unchanged"] + row["failed"])
        for change in ("created", "updated", "deactivated"):
            written.add_metric([name, change], row[change])
        failed.add_metric([name], row["failed"])
    yield read
    yield written
    yield failed

    from .guard_trips import guard_trip

    trips = CounterMetricFamily("profilesync_sync_guard_trips", "Syncs the deactivation guard "
                                "stopped before deactivating anyone", labels=["directory"])
    counted: dict[str, int] = {}
    for name in finished.values_list("directory_name", flat=True).distinct().order_by():
        counted[name] = 0
    for name, errors in finished.filter(status=RunStatus.FAILED).values_list("directory_name",
                                                                               "errors"):
        if guard_trip(errors) is not None:
            counted[name] = counted.get(name, 0) + 1
    for name, count in sorted(counted.items()):
        trips.add_metric([name], count)
    yield trips


def _duration_histogram(finished) -> HistogramMetricFamily:
    histogram = HistogramMetricFamily("profilesync_sync_run_duration_seconds",
                                      "How long each directory's part of a sync run took",
                                      labels=["directory", "mode"])
    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    aggregates = {f"le_{i}": Count("id", filter=Q(duration__lte=timedelta(seconds=bound)))
                  for i, bound in enumerate(DURATION_BUCKETS)}
    rows = (finished.annotate(duration=duration).values("directory_name", "mode").order_by()
            .annotate(total=Count("id"), seconds=Sum("duration"), **aggregates))
    for row in rows:
        buckets = [(str(bound), row[f"le_{i}"]) for i, bound in enumerate(DURATION_BUCKETS)]
        buckets.append(("+Inf", row["total"]))
        histogram.add_metric([row["directory_name"], row["mode"]], buckets,
                             sum_value=_seconds(row["seconds"]))
    return histogram


def _profiles() -> Iterator:
    from profilesync.profiles.models import Profile

    profiles = GaugeMetricFamily("profilesync_profiles", "Profiles by directory and state "
                                 "(active or inactive)", labels=["directory", "state"])
    for row in Profile.objects.values("directory__name", "active").annotate(n=Count("id")).order_by():
        profiles.add_metric([row["directory__name"], "active" if row["active"] else "inactive"],
                            row["n"])
    yield profiles


def _writebacks() -> Iterator:
    from profilesync.writeback.models import PendingStatus, PendingWrite, WriteAudit

    now = timezone.now()
    pending = GaugeMetricFamily("profilesync_writeback_pending", "Write-backs waiting for an "
                                "unreachable directory", labels=["directory"])
    oldest = GaugeMetricFamily("profilesync_writeback_pending_oldest_age_seconds",
                               "Age of the oldest write-back still waiting", labels=["directory"])
    refused = GaugeMetricFamily("profilesync_writeback_refused", "Write-backs the directory "
                                "refused for good (kept for the person and administrators)",
                                labels=["directory"])
    rows = (PendingWrite.objects.filter(status__in=[PendingStatus.PENDING, PendingStatus.REFUSED])
            .values("profile__directory__name", "status").order_by()
            .annotate(n=Count("id"), first=Min("created_at"), last=Max("created_at")))
    for row in rows:
        name = row["profile__directory__name"]
        if row["status"] == PendingStatus.PENDING:
            pending.add_metric([name], row["n"])
            oldest.add_metric([name], max((now - row["first"]).total_seconds(), 0.0))
        else:
            refused.add_metric([name], row["n"])
    yield pending
    yield oldest
    yield refused

    attempts = CounterMetricFamily("profilesync_writeback_attempts", "Write-back attempts by "
                                   "directory and result (written, conflict, pending, refused)",
                                   labels=["directory", "result"])
    for row in WriteAudit.objects.values("directory_name", "result").annotate(n=Count("id")).order_by():
        attempts.add_metric([row["directory_name"], row["result"]], row["n"])
    yield attempts


def _workers() -> Iterator:
    from .models import WorkerHeartbeat

    beats = GaugeMetricFamily("profilesync_worker_heartbeat_timestamp_seconds",
                              "Each worker's last heartbeat (Unix time)", labels=["worker"])
    for worker_id, beat_at in WorkerHeartbeat.objects.values_list("worker_id", "beat_at"):
        beats.add_metric([worker_id], beat_at.timestamp())
    yield beats


def _live_listeners() -> Iterator:
    """Each directory's live listener: its state, for how long, its heartbeat, its last change."""
    from .live_listeners import STATES, listener_views

    now = timezone.now()
    state = GaugeMetricFamily("profilesync_live_listener_state", "1 for the state each directory's "
                              "live listener is in (connected, polling, reconnecting, off), else 0",
                              labels=["directory", "state"])
    in_state = GaugeMetricFamily("profilesync_live_listener_state_seconds", "How long each live "
                                 "listener has been in its current state", labels=["directory"])
    held = GaugeMetricFamily("profilesync_live_listener_held", "1 when a worker holds the "
                             "directory's live lease now (the listener's heartbeat), else 0",
                             labels=["directory"])
    wanted = GaugeMetricFamily("profilesync_live_listener_wanted", "1 when a live listener should "
                               "run for the directory (syncable, imported, live not off)",
                               labels=["directory"])
    down = GaugeMetricFamily("profilesync_live_listener_down_seconds", "How long a wanted live "
                             "listener has been reconnecting or run by no worker (0 while it is "
                             "up or not wanted)", labels=["directory"])
    last = GaugeMetricFamily("profilesync_live_listener_last_change_timestamp_seconds",
                             "When each live listener last applied a change (Unix time)",
                             labels=["directory"])
    applied = CounterMetricFamily("profilesync_live_listener_changes_applied", "Profile changes "
                                  "applied by each live listener", labels=["directory"])
    for view in listener_views(now):
        name = view.directory
        for candidate in STATES:
            state.add_metric([name, candidate], 1 if view.state == candidate else 0)
        if view.since is not None:
            in_state.add_metric([name], max((now - view.since).total_seconds(), 0.0))
        held.add_metric([name], 1 if view.holder else 0)
        wanted.add_metric([name], 1 if view.wanted else 0)
        down.add_metric([name], max((now - view.down_since).total_seconds(), 0.0)
                        if view.down_since is not None else 0)
        if view.last_change_at is not None:
            last.add_metric([name], view.last_change_at.timestamp())
        applied.add_metric([name], view.changes_applied)
    yield from (state, in_state, held, wanted, down, last, applied)


def _incidents() -> Iterator:
    from .models import Incident

    open_ = GaugeMetricFamily("profilesync_alert_incidents_open", "Alert incidents open now, by rule",
                              labels=["rule", "directory"])
    for row in (Incident.objects.filter(resolved_at__isnull=True)
                .values("rule", "directory_name").annotate(n=Count("id")).order_by()):
        open_.add_metric([row["rule"], row["directory_name"]], row["n"])
    yield open_
