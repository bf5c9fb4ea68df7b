"""What a business card and a vCard show of a person: the visible values of a few fields.

One function decides, with the profile page's own rules (``access.can_see_field``,
``display.value_of``), so the card on hover, the ``.vcf`` download and the
profile page never disagree about what a viewer may see.
"""

from __future__ import annotations

from dataclasses import dataclass

from .access import FieldAccess, can_see_field, field_accesses
from .display import is_empty, value_of
from .models import FieldType, Profile, ProfileField
from .reporting_lines import Manager, lines_visible, manager_field, manager_of

# The fields a card shows, by default key, in this order.
CARD_KEYS = ("title", "department", "phone", "mail")


@dataclass
class PersonFacts:
    profile: Profile
    name: str
    values: dict[str, str]  # CARD_KEYS the viewer sees that have a value
    labels: dict[str, str]
    shows_picture: bool
    manager: Manager | None


def person_facts(profile: Profile, viewer, accesses: list[FieldAccess] | None = None,
                 manager: ProfileField | None | bool = True) -> PersonFacts:
    """``profile``'s card as ``viewer`` may see it.

    ``accesses`` (``field_accesses`` of a profile of the same directory) and the
    ``manager`` field may be passed in by a caller that makes many cards.
    """
    values: dict[str, str] = {}
    labels: dict[str, str] = {}
    shows_picture = bool(profile.shown_picture)
    for access in accesses if accesses is not None else field_accesses(profile):
        field = access.field
        visible = field.shown_in_profile and can_see_field(viewer, field, profile)
        if field.type == FieldType.PICTURE:
            shows_picture = shows_picture and visible
            continue
        if field.key not in CARD_KEYS or not visible:
            continue
        value = value_of(profile, access)
        if is_empty(value):
            continue
        values[field.key] = ", ".join(value) if isinstance(value, list) else str(value)
        labels[field.key] = field.label
    field = manager_field() if manager is True else manager or None
    shown_manager = manager_of(profile, viewer) if lines_visible(viewer, profile, field) else None
    return PersonFacts(profile, profile.display_name or profile.username, values, labels,
                       shows_picture, shown_manager)
