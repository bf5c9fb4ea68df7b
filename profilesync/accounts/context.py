"""Template context: the visitor's role and own profile, for navigation."""

from __future__ import annotations

from .roles import is_administrator, is_system_administrator


def roles(request) -> dict:
    user = request.user
    if not user.is_authenticated:
        return {"is_administrator": False, "is_system_administrator": False, "my_profile": None}
    return {
        "is_administrator": is_administrator(user),
        "is_system_administrator": is_system_administrator(user),
        "my_profile": getattr(user, "profile", None),
    }
