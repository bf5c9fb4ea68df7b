"""Who may give whom which role, checked where a person (not the operator's CLI) acts.

Administrators manage people: they make Users Administrators and back. Only a
System Administrator makes or unmakes System Administrators, and nobody removes
the last active one, which would leave directories and write-back unmanageable
from the web.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from profilesync.errors import InvalidSetting

from .roles import Role, is_administrator, is_system_administrator, role_of, set_role


def roles_assignable_by(actor, user) -> list[Role]:
    """The roles ``actor`` may give ``user``; empty when the role is not theirs to change."""
    if is_system_administrator(actor):
        return list(Role)
    if is_administrator(actor) and role_of(user) != Role.SYSTEM_ADMINISTRATOR:
        return [Role.ADMINISTRATOR, Role.USER]
    return []


@transaction.atomic
def change_role(user, role: Role, *, by) -> None:
    """Give ``user`` the role ``role`` on behalf of ``by``; raise ``InvalidSetting("role")``."""
    current = role_of(user)
    if role == current:
        return
    if role not in roles_assignable_by(by, user):
        if not is_administrator(by):
            raise InvalidSetting("role", "only administrators change roles")
        raise InvalidSetting("role", "only a System Administrator can make someone a System "
                             "Administrator or change a System Administrator's role")
    if current == Role.SYSTEM_ADMINISTRATOR and _active_system_administrators() <= 1:
        raise InvalidSetting("role", f"{user.username} is the last System Administrator; make "
                             "someone else a System Administrator first")
    set_role(user, role)


def _active_system_administrators() -> int:
    # Locked, so two System Administrators demoting each other at once cannot both pass.
    holders = get_user_model().objects.select_for_update().filter(is_superuser=True, is_active=True)
    return len(list(holders.values_list("pk", flat=True)))
