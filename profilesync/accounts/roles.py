"""The three roles, kept on Django's own user flags so nothing else has to know about them.

System Administrator = ``is_superuser``: everything, including directories, Data
Sources and write-back. Administrator = ``is_staff``: fields and people. User:
their own profile. Checks go through these functions or the permissions each role grants
(``permissions.py``), never through the flags.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SYSTEM_ADMINISTRATOR = "system-administrator"
    ADMINISTRATOR = "administrator"
    USER = "user"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ").capitalize()


def role_of(user) -> Role:
    if getattr(user, "is_superuser", False):
        return Role.SYSTEM_ADMINISTRATOR
    if getattr(user, "is_staff", False):
        return Role.ADMINISTRATOR
    return Role.USER


def set_role(user, role: Role) -> None:
    user.is_superuser = role == Role.SYSTEM_ADMINISTRATOR
    user.is_staff = role in (Role.SYSTEM_ADMINISTRATOR, Role.ADMINISTRATOR)
    user.save(update_fields=["is_superuser", "is_staff"])


def is_system_administrator(user) -> bool:
    return user.is_authenticated and role_of(user) == Role.SYSTEM_ADMINISTRATOR


def is_administrator(user) -> bool:
    """Administrators and System Administrators."""
    return user.is_authenticated and role_of(user) in (Role.SYSTEM_ADMINISTRATOR,
                                                        Role.ADMINISTRATOR)

