"""``profilesync token create|list|revoke``: personal API tokens of a login."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.utils import timezone

from profilesync.api.models import ApiToken
from profilesync.api.tokens import EXPIRES_EXAMPLES, issue_token, parse_expiry, revoke_token
from profilesync.errors import InvalidSetting
from profilesync.management.base import ProfilesyncCommand, usage_error


class Command(ProfilesyncCommand):
    help = "Manage API tokens (Authorization: Bearer <token>); a token acts as its login."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="make a token and print it (once)")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="what the token is for")
        create.add_argument("--expires", metavar="WHEN",
                            help=f"when it stops working, {EXPIRES_EXAMPLES}; "
                                 "default: until revoked or the person's access ends")
        listing = actions.add_parser("list", help="list tokens (never the tokens themselves)")
        listing.add_argument("username", nargs="?")
        listing.add_argument("--json", action="store_true")
        revoke = actions.add_parser("revoke", help="delete a token")
        revoke.add_argument("username")
        revoke.add_argument("prefix", help="the token's first characters, as `token list` shows")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"handle_{action}")(**options)

    def _login(self, username: str):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise usage_error(f"no login {username!r}; directory users appear after their "
                              "first login (`profilesync account list`)")
        return user

    def handle_create(self, username: str, name: str, expires: str | None = None,
                      **options) -> None:
        user = self._login(username)
        if not user.is_active:
            raise usage_error(f"login {username!r} is deactivated; a token would not work")
        try:
            expires_at = parse_expiry(expires) if expires else None
        except InvalidSetting as exc:
            raise usage_error(f"--expires: {exc.message}") from None
        row, token = issue_token(user, name, expires_at)
        self.stderr.write("Keep this token now: it is not stored and cannot be shown again.")
        if row.expires_at:
            self.stderr.write(f"It works until {_moment(row.expires_at)}.")
        self.stdout.write(token)

    def handle_list(self, username: str | None = None, json: bool = False, **options) -> None:
        tokens = ApiToken.objects.select_related("user")
        if username:
            tokens = tokens.filter(user=self._login(username))
        rows = [{"username": t.user.username, "prefix": t.prefix, "name": t.name,
                 "created_at": _moment(t.created_at),
                 "last_used_at": _moment(t.last_used_at) if t.last_used_at else None,
                 "expires_at": _moment(t.expires_at) if t.expires_at else None}
                for t in tokens]
        if json:
            self.stdout.write(_dumps(rows))
            return
        for row in rows:
            self.stdout.write(f"{row['username']}\t{row['prefix']}…\t{row['name']}\t"
                              f"created {row['created_at']}\tlast used {row['last_used_at'] or 'never'}"
                              f"\texpires {row['expires_at'] or 'never'}")

    def handle_revoke(self, username: str, prefix: str, **options) -> None:
        deleted = revoke_token(self._login(username), prefix)
        if deleted == 0:
            raise usage_error(f"prefix: no token of {username!r} starts with {prefix!r} "
                              "(give at least the 8 characters `token list` shows)")
        self.stdout.write(f"revoked {deleted} token{'s' if deleted != 1 else ''}")


def _moment(value) -> str:
    return timezone.localtime(value).isoformat(timespec="seconds")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
