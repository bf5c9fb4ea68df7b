"""What a profile page shows: each field's value from where it lives, grouped by category."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from .access import FieldAccess, can_see_field, visibility_note
from .models import FieldType, Profile, ProfileField

# Shown under the name at the top of a profile instead of among the fields.
HEADLINE_KEYS = ("title", "department")
# The heading itself (the sync keeps it as the profile's display name too).
NAME_KEY = "display_name"
# What a field without a category is listed under.
OTHER_CATEGORY = "Other"


def value_of(profile: Profile, access: FieldAccess) -> object:
    """A field's value: the directory's when the directory feeds it, else the person's own."""
    source = profile.values if access.fed_by_ldap else profile.local_values
    return source.get(access.field.key)


def is_empty(value: object) -> bool:
    return value is None or value == "" or value == []


@dataclass(frozen=True)
class Row:
    field: ProfileField
    value: object  # str, list[str] for a multiselect, datetime.date for a date
    restricted: str  # who sees it when not everyone does (a hint to those who see it), else ""

    @property
    def is_web_address(self) -> bool:
        """Link only http(s): a value from the directory was never checked like an edit."""
        return isinstance(self.value, str) and self.value.lower().startswith(("http://", "https://"))


@dataclass
class Section:
    category: str
    rows: list[Row] = field(default_factory=list)


@dataclass
class ProfileView:
    headline: list[str]
    sections: list[Section]
    shows_picture: bool


def profile_view(profile: Profile, accesses: list[FieldAccess], viewer) -> ProfileView:
    """The fields ``viewer`` sees on ``profile``'s page, sections in the fields' order."""
    headline: list[str] = []
    sections: dict[str, Section] = {}
    shows_picture = True
    for access in accesses:
        profile_field = access.field
        visible = profile_field.shown_in_profile and can_see_field(viewer, profile_field, profile)
        if profile_field.type == FieldType.PICTURE:
            shows_picture = shows_picture and visible
            continue
        value = value_of(profile, access)
        if not visible or is_empty(value) or profile_field.key == NAME_KEY:
            continue
        if profile_field.key in HEADLINE_KEYS and isinstance(value, str):
            headline.append(value)
            continue
        category = profile_field.category or OTHER_CATEGORY
        section = sections.setdefault(category, Section(category))
        section.rows.append(Row(profile_field, _shown(profile_field, value),
                                restricted=visibility_note(profile_field)))
    return ProfileView(headline, list(sections.values()), shows_picture)


def stored_date(value: object) -> datetime.date | None:
    """A date field's stored ``YYYY-MM-DD`` as a date; None for anything else."""
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _shown(profile_field: ProfileField, value: object) -> object:
    if profile_field.type == FieldType.DATE:
        return stored_date(value) or value
    if isinstance(value, list):
        return [str(item) for item in value]
    return value
