"""A job's schedule as stored: read it, change it, list its next due times."""

from __future__ import annotations

from datetime import datetime, tzinfo

from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from .clock import database_now
from .cron import CronSchedule, parse
from .jobs import Job
from .models import Schedule


def local_zone() -> tzinfo:
    """The time zone cron expressions are read in and due times shown in (``TIME_ZONE``)."""
    return timezone.get_default_timezone()


def schedule_of(job: Job) -> Schedule:
    """The job's stored schedule; created with the default on first use.

    A new schedule counts as claimed up to now, so the first run is at the next due
    time rather than at once for a slot that passed before the job existed.
    """
    schedule, _ = Schedule.objects.get_or_create(
        job=job.name, defaults={"cron": job.default_cron, "claimed_slot": database_now()})
    return schedule


def set_schedule(job: Job, expr: str) -> Schedule:
    """Store a new cron expression for ``job``; raise ``InvalidCronExpression`` and store nothing.

    Slots of the new expression that are already past are not run: only due times
    after the change count, as an administrator changing "when" would expect.
    """
    cron = parse(expr)
    schedule_of(job)
    Schedule.objects.filter(job=job.name).update(
        cron=cron.expr,
        claimed_slot=Greatest(F("claimed_slot"), Value(database_now())),
        changed_at=timezone.now(),
    )
    return Schedule.objects.get(job=job.name)


def next_due_times(cron: CronSchedule, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` due times after ``after``, in the installation's time zone."""
    zone = local_zone()
    times = []
    for due in cron.upcoming(after, zone):
        times.append(due.astimezone(zone))
        if len(times) == count:
            break
    return times
