"""A person's manager and direct reports for the API (``profiles.reporting_lines``)."""

from __future__ import annotations

from profilesync.profiles.models import Profile
from profilesync.profiles.reporting_lines import (
    PersonRef,
    direct_reports,
    lines_visible,
    manager_field,
    manager_of,
)


def reporting_fields(profile: Profile, viewer) -> dict:
    """``manager`` and ``reports`` of :class:`~.schemas.PersonDetail`, as ``viewer`` may see them."""
    if not lines_visible(viewer, profile, manager_field()):
        return {"manager": None, "reports": []}
    manager = manager_of(profile, viewer)
    shown = manager.person if manager is not None and not manager.self_reference else None
    return {"manager": _ref(shown) if shown else None,
            "reports": [_ref(report.person) for report in direct_reports(profile, viewer)]}


def _ref(person: PersonRef) -> dict:
    return {"id": person.pk, "name": person.name, "title": person.title}
