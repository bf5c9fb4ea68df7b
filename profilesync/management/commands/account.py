"""``profilesync account role|create-local|list``: logins and their roles."""

from __future__ import annotations

import json
from pathlib import Path

from django.contrib.auth import get_user_model

from profilesync.accounts.roles import Role, role_of, set_role
from profilesync.management.base import ProfilesyncCommand, usage_error

ROLES = [r.value for r in Role]


class Command(ProfilesyncCommand):
    help = "Manage logins: roles of directory users and local accounts."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        role = actions.add_parser("role", help="print or change a login's role")
        role.add_argument("username")
        role.add_argument("role", nargs="?", choices=ROLES)
        local = actions.add_parser("create-local", help="create a local (non-directory) login")
        local.add_argument("username")
        local.add_argument("--password-file", required=True,
                           help="file holding the password ('-' reads standard input)")
        local.add_argument("--role", choices=ROLES, default=Role.USER.value)
        listing = actions.add_parser("list", help="list logins and their roles")
        listing.add_argument("--json", action="store_true")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def handle_role(self, username: str, role: str | None = None, **options) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise usage_error(f"no login {username!r}; directory users appear after their "
                              "first login (`profilesync account list`)")
        if role is not None:
            set_role(user, Role(role))
        self.stdout.write(f"{username}: {role_of(user).value}")

    def handle_create_local(self, username: str, password_file: str, role: str,
                            **options) -> None:
        import sys

        users = get_user_model().objects
        if users.filter(username=username).exists():
            raise usage_error(f"a login {username!r} exists; use `account role` to change it")
        try:
            password = (sys.stdin.read() if password_file == "-"
                        else Path(password_file).read_text()).rstrip("\r\n")
        except OSError as exc:
            raise usage_error(f"--password-file: cannot read {password_file}: "
                              f"{exc.strerror}") from exc
        if len(password) < 8:
            raise usage_error("--password-file: the password must have at least 8 characters")
        user = users.create_user(username=username, password=password)
        set_role(user, Role(role))
        self.stdout.write(f"local login {username} created ({role})")

    def handle_list(self, json: bool = False, **options) -> None:
        rows = []
        for user in get_user_model().objects.order_by("username"):
            profile = getattr(user, "profile", None)
            rows.append({"username": user.username, "role": role_of(user).value,
                         "directory": profile.directory.name if profile else None,
                         "active": user.is_active})
        if json:
            self.stdout.write(_dumps(rows))
            return
        for row in rows:
            self.stdout.write(f"{row['username']}\t{row['role']}\t{row['directory'] or 'local'}")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
