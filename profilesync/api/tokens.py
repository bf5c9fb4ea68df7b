"""Making, checking and revoking API tokens.

A token is 32 random bytes, URL-safe, behind a ``psk_`` prefix so a leaked one
is recognisable in logs and by secret scanners. It is checked by its SHA-256
digest: a token is already high-entropy, so a slow password hash would add
nothing but latency to every API call.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.utils import timezone

from profilesync.errors import InvalidSetting

from .models import ApiToken

TOKEN_PREFIX = "psk_"
SHOWN_PREFIX_LENGTH = 10
# "Last used" is a hint for cleaning up, so it is written at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=5)


_DURATION = re.compile(r"^(\d{1,5})([hdw])$")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
EXPIRES_EXAMPLES = "e.g. 90d, 12h, 2w, or a date such as 2027-06-30"


def parse_expiry(text: str, now: datetime | None = None) -> datetime:
    """When a token made now with ``--expires TEXT`` stops working.

    A duration (``90d``, ``12h``, ``2w``) counts from now; a date means the start of
    that day in the configured time zone; a date and time (ISO 8601) is taken as it is.
    """
    now = now or timezone.now()
    text = text.strip()
    match = _DURATION.match(text.lower())
    if match:
        moment = now + int(match.group(1)) * _UNITS[match.group(2)]
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise InvalidSetting("expires", f"{text!r} is neither a duration nor a date; "
                                 f"{EXPIRES_EXAMPLES}") from None
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
    if moment <= now:
        raise InvalidSetting("expires", f"{text!r} is not in the future; {EXPIRES_EXAMPLES}")
    return moment


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user, name: str, expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for ``user``: the stored row and the token itself, which is not kept.

    ``expires_at``: when it stops working (None: until revoked, or until the person's
    access ends; ``accounts.deactivation`` deletes every token of a deactivated login).
    """
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name.strip() or "unnamed",
                                  prefix=token[:SHOWN_PREFIX_LENGTH], digest=token_digest(token),
                                  expires_at=expires_at)
    return row, token


def user_for_token(token: str):
    """The active login ``token`` belongs to, or None: unknown, expired, or its login or
    profile is inactive (checked on every call, so a sync's deactivation counts at once)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    now = timezone.now()
    row = (ApiToken.objects.select_related("user")
           .filter(digest=token_digest(token), user__is_active=True)
           .exclude(user__profile__active=False)
           .exclude(expires_at__lte=now).first())
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def revoke_token(user, prefix: str) -> int:
    """Delete ``user``'s tokens that start with ``prefix``; how many were deleted."""
    if len(prefix) < len(TOKEN_PREFIX) + 4:
        return 0  # too short to name one token safely
    tokens = ApiToken.objects.filter(user=user)
    if len(prefix) > SHOWN_PREFIX_LENGTH:  # the whole token, or more than is shown
        tokens = tokens.filter(digest=token_digest(prefix)) if prefix.startswith(
            TOKEN_PREFIX) and len(prefix) > 40 else tokens.filter(
            prefix=prefix[:SHOWN_PREFIX_LENGTH])
    else:
        tokens = tokens.filter(prefix__startswith=prefix)
    deleted, _ = tokens.delete()
    return deleted
