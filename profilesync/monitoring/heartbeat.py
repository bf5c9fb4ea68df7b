"""Each worker's heartbeat: one row per worker, touched every few seconds from a thread.

``/readyz`` and the metrics read the newest beat to tell whether any worker is
alive. A thread of its own rather than the scheduler's tick, so a worker busy
with a long sync (its main thread runs the task) still counts as alive, and a
``--no-scheduler`` worker beats too. The time is the database's, like the
scheduler's, so a node whose clock is off does not look dead or alive wrongly.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections

from profilesync.scheduling.clock import database_now

from .models import WorkerHeartbeat

log = logging.getLogger(__name__)


def beat(worker_id: str, *, runs_scheduler: bool = True, now: datetime | None = None) -> None:
    """Record that ``worker_id`` is alive now."""
    now = now or database_now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(
        beat_at=now, runs_scheduler=runs_scheduler)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"beat_at": now, "started_at": now, "runs_scheduler": runs_scheduler})


def forget_old_workers(now: datetime, keep_days: int = 7) -> int:
    """Drop the rows of workers silent for a week: each restart of a worker adds a row."""
    deleted, _ = WorkerHeartbeat.objects.filter(beat_at__lt=now - timedelta(days=keep_days)).delete()
    return deleted


def newest_beat() -> WorkerHeartbeat | None:
    return WorkerHeartbeat.objects.order_by("-beat_at").first()


class HeartbeatThread:
    """Calls ``beat`` every ``PROFILESYNC_WORKER_HEARTBEAT_SECONDS`` until stopped."""

    def __init__(self, worker_id: str, *, runs_scheduler: bool, every: float | None = None):
        self.worker_id = worker_id
        self.runs_scheduler = runs_scheduler
        self.every = every or settings.PROFILESYNC_WORKER_HEARTBEAT_SECONDS
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True,
                                        name=f"heartbeat-{worker_id}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                close_old_connections()
                try:
                    beat(self.worker_id, runs_scheduler=self.runs_scheduler)
                except DatabaseError as exc:
                    # The database is away: /readyz says so itself; beat again next time.
                    log.warning("worker heartbeat failed worker=%s error=%s", self.worker_id, exc)
                self._stop.wait(self.every)
        finally:
            connections.close_all()  # this thread's connections only
