"""Open write-backs (pending, refused, ended) as rows for the CLI, the API and the dialog.

One shape everywhere: ``username``, ``directory``, ``field``, ``value`` (a picture
as ``sha256:…``, never its bytes), ``state``, ``attempts``, ``next_try_at`` and
``message``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator

from django.db.models import QuerySet
from django.utils import timezone

from profilesync.profiles.models import FieldType, Profile
from profilesync.profiles.pictures import picture_bytes

from .models import OPEN_STATUSES, PendingWrite


def open_rows(profile: Profile | None = None) -> QuerySet[PendingWrite]:
    """Open rows, oldest first; one profile's when ``profile`` is given."""
    rows = PendingWrite.objects.filter(status__in=OPEN_STATUSES).select_related(
        "profile__directory").order_by("created_at", "id")
    return rows.filter(profile=profile) if profile is not None else rows


def shown_value(row: PendingWrite) -> object:
    """The person's value as it may be shown and logged: a picture by its hash."""
    if row.field_type == FieldType.PICTURE or (not row.field_type and row.attribute.lower() in (
            "jpegphoto", "thumbnailphoto")):
        data = picture_bytes(row.value) if isinstance(row.value, str) else None
        return f"sha256:{hashlib.sha256(data).hexdigest()}" if data else None
    return row.value


def pending_row(row: PendingWrite) -> dict:
    return {
        "username": row.profile.username,
        "directory": row.profile.directory.name,
        "field": row.field_key,
        "value": shown_value(row),
        "state": row.status,
        "attempts": row.attempts,
        "next_try_at": row.next_attempt_at.isoformat() if row.next_attempt_at else None,
        "message": row.reason,
    }


def pending_rows(rows: Iterable[PendingWrite]) -> Iterator[dict]:
    for row in rows:
        yield pending_row(row)


def retry_interval_minutes() -> int:
    """Minutes between two runs of the job "Retry pending write-backs", as scheduled now."""
    from profilesync.scheduling.cron import InvalidCronExpression, parse
    from profilesync.scheduling.jobs import WRITEBACK_RETRY
    from profilesync.scheduling.models import Schedule
    from profilesync.scheduling.schedules import next_due_times

    expr = (Schedule.objects.filter(job=WRITEBACK_RETRY.name).values_list("cron", flat=True)
            .first() or WRITEBACK_RETRY.default_cron)
    try:
        first, second = next_due_times(parse(expr), timezone.now(), 2)
    except (InvalidCronExpression, ValueError):
        return 5
    return max(1, round((second - first).total_seconds() / 60))
