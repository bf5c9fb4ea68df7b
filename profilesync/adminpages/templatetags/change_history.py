"""Change history on pages owned elsewhere, one line each: ``{% run_changes run %}`` on a
run's detail page and ``{% person_history profile %}`` on a profile.

Both page and filter by the request's query (``action``, ``field``, ``page``; the
profile's ``history_*`` so its own parameters never collide with the page's).
"""

from __future__ import annotations

from django import template
from django.core.paginator import Paginator

from profilesync.accounts.roles import is_administrator
from profilesync.profiles.access import can_edit_profile
from profilesync.profiles.models import Profile, ProfileField
from profilesync.sync import history
from profilesync.sync.models import ChangeAction, PersonChange, SyncRun

register = template.Library()

PAGE_SIZE = 50
CORE_FIELDS = ("username", "display_name", "dn", "picture", "active")


def field_choices() -> list[str]:
    keys = list(ProfileField.objects.order_by("key").values_list("key", flat=True))
    return sorted({*CORE_FIELDS, *keys})


def _filtered_page(changes, query, prefix: str = "") -> dict:
    action = query.get(f"{prefix}action", "")
    field = query.get(f"{prefix}field", "")
    if action not in ChangeAction.values:
        action = ""
    fields = field_choices()
    if field not in fields:
        field = ""
    page = Paginator(history.filtered(changes, action, field).order_by("-at", "-id"),
                     PAGE_SIZE).get_page(query.get(f"{prefix}page"))
    return {"page": page, "action": action, "field": field, "fields": fields,
            "actions": ChangeAction.choices, "prefix": prefix}


@register.inclusion_tag("adminpages/_run_changes.html", takes_context=True)
def run_changes(context, run: SyncRun) -> dict:
    return {"request": context["request"],
            **_filtered_page(PersonChange.objects.filter(run=run), context["request"].GET)}


@register.inclusion_tag("adminpages/_person_history.html", takes_context=True)
def person_history(context, profile: Profile) -> dict:
    """Only for the person themself and administrators: others see nothing at all."""
    viewer = context["request"].user
    if not (can_edit_profile(viewer, profile) or is_administrator(viewer)):
        return {"visible": False}
    return {"visible": True, "profile": profile, "request": context["request"],
            **_filtered_page(history.for_person(profile), context["request"].GET, "history_")}


@register.filter
def change_value(value: object) -> str:
    """A history value as text: lists joined, nothing shown as "(empty)"."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@register.simple_tag(takes_context=True)
def page_query(context, prefix: str, number: int) -> str:
    """The current query string on page ``number`` (page links keep the filters)."""
    query = context["request"].GET.copy()
    query[f"{prefix}page"] = number
    return query.urlencode()
