"""Template tags for reporting lines and Person fields, so pages owned elsewhere need one line.

``{% reporting_lines profile %}`` renders a profile's chain of managers and
direct reports (``profiles/_reporting_lines.html``); ``{% person_value profile
field value %}`` renders a Person field's value: a link to the person it
resolves to, or the DN marked "not in profilesync".
"""

from __future__ import annotations

from django import template

from profilesync.accounts.permissions import MANAGE_ROLES
from profilesync.profiles.models import PersonLink, Profile, ProfileField
from profilesync.profiles.reporting_lines import (
    chain_of,
    direct_reports,
    lines_visible,
    manager_field,
)

register = template.Library()


@register.inclusion_tag("profiles/_reporting_lines.html", takes_context=True)
def reporting_lines(context, profile: Profile) -> dict:
    viewer = context["request"].user
    if not lines_visible(viewer, profile, manager_field()):
        return {"visible": False}
    chain = chain_of(profile, viewer)
    return {"visible": True, "profile": profile, "chain": chain,
            "can_change": viewer.has_perm(MANAGE_ROLES),
            "top_down": list(reversed(chain.people)),
            "reports": direct_reports(profile, viewer)}


@register.inclusion_tag("profiles/_person_value.html", takes_context=True)
def person_value(context, profile: Profile, field: ProfileField, value: object) -> dict:
    link = (PersonLink.objects.select_related("target")
            .filter(profile=profile, field_key=field.key).first())
    target = link.target if link is not None else None
    viewer = context["request"].user
    from profilesync.accounts.roles import is_administrator

    if target is not None and not target.active and not is_administrator(viewer):
        target = None
    return {"target": target, "dn": value}
