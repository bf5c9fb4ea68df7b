"""What a profile shows while edits wait for the directory.

A pending edit lives in its own row, which no sync touches; the profile shows
the person's value with a "pending" mark on top of the synced value, so a
sync meanwhile can neither lose nor hide it.
"""

from __future__ import annotations

from profilesync.profiles.models import Profile

from .models import OPEN_STATUSES, PendingWrite


def open_writes(profile: Profile) -> dict[str, PendingWrite]:
    """The latest pending, refused or ended write per field key."""
    rows = PendingWrite.objects.filter(
        profile=profile, status__in=OPEN_STATUSES).order_by("created_at", "id")
    return {row.field_key: row for row in rows}
