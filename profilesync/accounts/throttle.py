"""Login throttling per user name and per address, in the shared cache.

Failed attempts are counted whether or not the user exists, so the limit
itself tells an attacker nothing; the counts live in Django's cache so every
web process and node (with Redis) sees the same ones.
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def login_name_key(username: str) -> str:
    """The name a person's failures count against, however they typed it.

    Active Directory accepts ``ann`` and ``ann@example.test`` (the userPrincipalName)
    for one account, so both count as ``ann``: otherwise each spelling would get its own
    allowance. Two people sharing a local part share a count, which only ever throttles
    sooner, never later.
    """
    return username.strip().lower().split("@", 1)[0]


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]
    return f"profilesync:login-failures:{kind}:{digest}"


def _window() -> int:
    return settings.PROFILESYNC_LOGIN_WINDOW_SECONDS


def _limits(username: str, address: str) -> list[tuple[str, int]]:
    return [(_key("user", login_name_key(username)),
             settings.PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER),
            (_key("address", address), settings.PROFILESYNC_LOGIN_MAX_FAILURES_PER_ADDRESS)]


def seconds_until_allowed(username: str, address: str) -> int:
    """0 when a login may be tried now, else how long until the oldest failure expires."""
    now = time.time()
    waits = []
    for key, limit in _limits(username, address):
        failures = [t for t in cache.get(key, []) if t > now - _window()]
        if len(failures) >= limit:
            waits.append(int(failures[0] + _window() - now) + 1)
    return max(waits, default=0)


def record_failure(username: str, address: str) -> None:
    now = time.time()
    for key, _limit in _limits(username, address):
        failures = [t for t in cache.get(key, []) if t > now - _window()]
        failures.append(now)
        cache.set(key, failures[-100:], _window())


def clear_failures(username: str) -> None:
    cache.delete(_key("user", login_name_key(username)))
