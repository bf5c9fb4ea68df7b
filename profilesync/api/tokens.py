"""Making, checking and revoking API tokens.

A token is 32 random bytes, URL-safe, behind a ``psk_`` prefix so a leaked one
is recognisable in logs and by secret scanners. It is checked by its SHA-256
digest: a token is already high-entropy, so a slow password hash would add
nothing but latency to every API call.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.utils import timezone

from .models import ApiToken

TOKEN_PREFIX = "psk_"
SHOWN_PREFIX_LENGTH = 10
# "Last used" is a hint for cleaning up, so it is written at most this often per token.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``: the stored row and the token itself, which is not kept."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken.objects.create(user=user, name=name.strip() or "unnamed",
                                  prefix=token[:SHOWN_PREFIX_LENGTH], digest=token_digest(token))
    return row, token


def user_for_token(token: str):
    """The active login ``token`` belongs to, or None."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = (ApiToken.objects.select_related("user")
           .filter(digest=token_digest(token)).first())
    if row is None or not row.user.is_active:
        return None
    now = timezone.now()
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
