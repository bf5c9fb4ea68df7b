"""The scheduler: claim each due slot exactly once, across every worker, and queue its task.

Every worker runs this loop; none is the "leader". For each job a tick works out
the latest due slot by the database's clock and, if it is newer than the slot last
claimed, claims it with one conditional UPDATE::

    UPDATE scheduling_schedule SET claimed_slot = :slot
     WHERE job = :job AND claimed_slot < :slot

Only one claimer's UPDATE changes the row; the others see zero rows (PostgreSQL
re-checks the condition after waiting for the winner's row lock; SQLite runs
writers one at a time). The claim and the queued task commit together, so a
worker that dies in between leaves neither.

Slots missed while no worker ran are not replayed one by one: the latest of them
is run once, and the earlier ones are passed over with it.

This loop runs only in ``profilesync worker``, never in a web process.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from django.db import DatabaseError, close_old_connections, connections, transaction

from .clock import database_now
from .cron import InvalidCronExpression, parse
from .jobs import JOBS, Job
from .models import Schedule
from .schedules import local_zone, schedule_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedSlot:
    job: Job
    slot: datetime
    task_id: str


def claim_slot(job: Job, slot: datetime) -> bool:
    """Move the job's claimed slot forward to ``slot``; True for the one caller that did."""
    return bool(Schedule.objects.filter(job=job.name, claimed_slot__lt=slot)
                .update(claimed_slot=slot))


def run_due_jobs(now: datetime | None = None) -> list[ClaimedSlot]:
    """One scheduler tick: claim and queue every job whose due slot nobody claimed yet."""
    now = now or database_now()
    claimed = []
    for job in JOBS.values():
        schedule = schedule_of(job)
        try:
            cron = parse(schedule.cron)
        except InvalidCronExpression as exc:
            # Only reachable by editing the table by hand; the CLI refuses such values.
            log.error("stored schedule cannot be used job=%s error=%s", job.name, exc)
            continue
        slot = cron.latest_at_or_before(now, local_zone())
        if slot <= schedule.claimed_slot:
            continue
        with transaction.atomic():
            if not claim_slot(job, slot):
                continue  # another worker claimed it first
            result = job.task.enqueue(trigger="schedule", slot=slot.isoformat())
        log.info("claimed due slot job=%s slot=%s task=%s", job.name, slot.isoformat(), result.id)
        claimed.append(ClaimedSlot(job, slot, result.id))
    return claimed


class SchedulerLoop:
    """Runs ``run_due_jobs`` every ``interval`` seconds in a thread until stopped."""

    def __init__(self, *, interval: float, name: str = "scheduler"):
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name=name)

    def start(self) -> None:
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        self._stop.set()
        if wait and self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()

    def _loop(self) -> None:
        try:
            while not self._stop.is_set():
                close_old_connections()
                try:
                    run_due_jobs()
                except DatabaseError as exc:
                    # A locked SQLite file or a PostgreSQL restart: the slot stays
                    # unclaimed, and the next tick claims it.
                    log.warning("scheduler tick failed error=%s", exc)
                except Exception:
                    log.exception("scheduler tick failed")
                self._stop.wait(self.interval)
        finally:
            connections.close_all()  # this thread's connections only
