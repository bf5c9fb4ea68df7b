"""Login throttling: per user name from an address group, and per address group.

Three rules, each from a finding of the penetration test:

* **Counted atomically, before the password is checked.** An attempt takes one
  of the allowance first (one locked database transaction) and gives it back if
  it succeeds, so 20 parallel guesses against an allowance of 5 check exactly 5
  passwords. A read-then-write in a cache let 6 through.
* **A locked name is locked only where the failures came from.** The per-name
  count is kept per address group, so guessing someone's password from one
  network never locks them (or the local administrator) out from another.
* **Addresses are counted by network**: an IPv4 /24 and an IPv6 /64, the block
  one client usually controls, so walking through the addresses of one's own
  /64 gains nothing.

Attempts are counted whether or not the user exists, so the limit itself tells
an attacker nothing. A user name counts in its plain form (``ann`` for
``ann@example.test``), so each spelling does not get its own allowance.
"""

from __future__ import annotations

import hashlib
import ipaddress
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import LoginAttempts

IPV4_GROUP = 24
IPV6_GROUP = 64


def login_name_key(username: str) -> str:
    """The name a person's failures count against, however they typed it.

    Active Directory accepts ``ann`` and ``ann@example.test`` (the userPrincipalName)
    for one account, so both count as ``ann``: otherwise each spelling would get its own
    allowance. Two people sharing a local part share a count, which only ever throttles
    sooner, never later.
    """
    return username.strip().lower().split("@", 1)[0]


def address_group(address: str) -> str:
    """The network an address is counted in: ``192.0.2.7`` -> ``192.0.2.0/24``,
    ``2001:db8:1:2::9`` -> ``2001:db8:1:2::/64``; anything unparsable as it is."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_GROUP if ip.version == 4 else IPV6_GROUP
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def _key(kind: str, *parts: str) -> str:
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:40]
    return f"{kind}:{digest}"


def _window() -> timedelta:
    return timedelta(seconds=settings.PROFILESYNC_LOGIN_WINDOW_SECONDS)


def _limits(username: str, address: str) -> list[tuple[str, int]]:
    group = address_group(address)
    return sorted([
        (_key("user", login_name_key(username), group),
         settings.PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER),
        (_key("address", group), settings.PROFILESYNC_LOGIN_MAX_FAILURES_PER_ADDRESS)])


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, int((moment - now).total_seconds()) + 1)


def reserve_attempt(username: str, address: str) -> int:
    """Take one attempt of both allowances; 0 when the password may be checked now,
    else the seconds until the window ends (and nothing is taken).

    The rows are locked in key order (PostgreSQL ``SELECT ... FOR UPDATE``; SQLite's
    write transaction), so concurrent attempts are counted one after another.
    """
    now = timezone.now()
    limits = _limits(username, address)
    keys = [key for key, _ in limits]
    with transaction.atomic():
        LoginAttempts.objects.filter(window_start__lt=now - 2 * _window()).delete()
        LoginAttempts.objects.bulk_create(
            [LoginAttempts(key=key, window_start=now, attempts=0) for key in keys],
            ignore_conflicts=True)
        rows = {row.key: row for row in
                LoginAttempts.objects.select_for_update().filter(key__in=keys).order_by("key")}
        wait = 0
        for key, limit in limits:
            row = rows[key]
            if row.window_start <= now - _window():
                row.window_start, row.attempts = now, 0
            if row.attempts >= limit:
                wait = max(wait, _seconds_until(row.window_start + _window(), now))
        if not wait:
            for row in rows.values():
                row.attempts += 1
        for row in rows.values():
            row.save(update_fields=["window_start", "attempts"])
    return wait


def attempt_succeeded(username: str, address: str) -> None:
    """The password was right: this name's failures from this network are forgotten, and
    the attempt is given back to the network's allowance (a success is not a guess)."""
    user_key, address_key = (_key("user", login_name_key(username), address_group(address)),
                             _key("address", address_group(address)))
    LoginAttempts.objects.filter(key=user_key).delete()
    LoginAttempts.objects.filter(key=address_key, attempts__gt=0).update(
        attempts=F("attempts") - 1)
