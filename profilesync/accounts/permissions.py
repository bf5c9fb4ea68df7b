"""What each role may do, as Django permissions, so every check is ``user.has_perm(...)``.

The roles stay on Django's own user flags (see ``roles.py``); this module is the
table from role to permission and the authentication backend that answers
``has_perm`` from it. Django itself already grants an active superuser (a System
Administrator) every permission, and nothing to an inactive user, so a person a
sync deactivated loses every permission at once.

The permissions are not rows in ``auth_permission``: nobody grants them one by
one, they follow the role, and a table of rows would be a second place to keep
in step with it.
"""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from .roles import Role, role_of

# Administrators and up.
MANAGE_FIELDS = "accounts.manage_fields"
"""Add, label, order, show, hide and delete profile fields (not where they come from)."""
MANAGE_ROLES = "accounts.manage_roles"
"""Make Users Administrators and back (role_changes.py has the finer rules)."""
VIEW_WRITE_AUDIT = "accounts.view_write_audit"
"""Read the write-back audit log and the writes waiting or refused."""

# System Administrators only.
MAP_FIELDS = "accounts.map_fields"
"""Change a field's LDAP attribute, its per-directory overrides and its write-back:
what a field reads decides what every person sees, so it is as strong as write-back."""
MANAGE_DIRECTORIES = "accounts.manage_directories"
MANAGE_DATA_SOURCES = "accounts.manage_data_sources"
"""Data Sources: incremental sync, the last sync date, timestamp patterns, write-back
switch, and the write-back test panel."""
RUN_SYNC = "accounts.run_sync"
"""The sync report, "run now" and the scheduled jobs."""

ADMINISTRATOR_PERMISSIONS = frozenset({MANAGE_FIELDS, MANAGE_ROLES, VIEW_WRITE_AUDIT})
SYSTEM_ADMINISTRATOR_PERMISSIONS = ADMINISTRATOR_PERMISSIONS | {
    MAP_FIELDS, MANAGE_DIRECTORIES, MANAGE_DATA_SOURCES, RUN_SYNC}

ROLE_PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.SYSTEM_ADMINISTRATOR: SYSTEM_ADMINISTRATOR_PERMISSIONS,
    Role.ADMINISTRATOR: ADMINISTRATOR_PERMISSIONS,
    Role.USER: frozenset(),
}


def roles_holding(permission: str) -> list[Role]:
    """The roles that have ``permission``, highest first (for a refusal's wording)."""
    return [role for role in Role if permission in ROLE_PERMISSIONS[role]]


def who_may(permission: str) -> str:
    """``"an Administrator or a System Administrator"``: the refusal names who may."""
    roles = [f"{'an' if role.label[0] in 'AEIOU' else 'a'} {role.label.title()}"
             for role in reversed(roles_holding(permission))]
    return " or ".join(roles) or "nobody"


class RolePermissionBackend(BaseBackend):
    """Answers ``has_perm`` from the role; authenticates nobody (the other backends do)."""

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(ROLE_PERMISSIONS[role_of(user_obj)])
