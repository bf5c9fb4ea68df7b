"""Who may read ``/metrics``: an allowed address, or a caller with the token.

The figures name directories and their health, which is not for everyone.
``PROFILESYNC_METRICS_ALLOW`` lists addresses and networks (default loopback);
``PROFILESYNC_METRICS_TOKEN`` admits ``Authorization: Bearer <token>`` from
anywhere. A request that came through a reverse proxy (it carries
``Forwarded``, ``X-Forwarded-For`` or ``X-Real-IP``) is never admitted by
address: behind a proxy on the same machine every visitor would otherwise look
like loopback. Such callers need the token.
"""

from __future__ import annotations

import hmac
import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_PROXY_HEADERS = ("HTTP_FORWARDED", "HTTP_X_FORWARDED_FOR", "HTTP_X_REAL_IP")


@lru_cache(maxsize=8)
def allowed_networks(text: str) -> tuple[IPNetwork, ...]:
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"PROFILESYNC_METRICS_ALLOW: {item!r} is not an address or network; use e.g. "
                "127.0.0.1/8,::1,10.0.0.5") from None
    return tuple(networks)


def _address_allowed(request: HttpRequest) -> bool:
    if any(request.META.get(header) for header in _PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address in network for network in allowed_networks(settings.PROFILESYNC_METRICS_ALLOW))


def _token_given(request: HttpRequest) -> bool:
    expected = settings.PROFILESYNC_METRICS_TOKEN
    scheme, _, given = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), expected.encode())


def may_read_metrics(request: HttpRequest) -> bool:
    return _token_given(request) or _address_allowed(request)
