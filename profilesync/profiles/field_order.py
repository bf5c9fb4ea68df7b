"""The order of profile fields: moving one up or down, as the profile editor does."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Max

from .models import ProfileField


def next_position() -> int:
    """Where a new field goes: after every other, also when deletions left gaps."""
    highest = ProfileField.objects.aggregate(highest=Max("position"))["highest"]
    return 0 if highest is None else highest + 1


@transaction.atomic
def move_field(field: ProfileField, offset: int) -> None:
    """Move ``field`` ``offset`` places (negative: up); past either end it stops there.

    Positions are renumbered 0..n-1 on the way, so gaps left by deleted fields
    and ties between fields made at once never make a move do nothing.
    """
    fields = list(ProfileField.objects.select_for_update().order_by("position", "key"))
    index = next(i for i, f in enumerate(fields) if f.pk == field.pk)
    target = max(0, min(len(fields) - 1, index + offset))
    fields.insert(target, fields.pop(index))
    changed = []
    for position, each in enumerate(fields):
        if each.position != position:
            each.position = position
            changed.append(each)
    ProfileField.objects.bulk_update(changed, ["position"])
    field.position = target
