"""The host names the web server answers to (Django's ``ALLOWED_HOSTS``).

A request for any other Host is refused (400), so a forged Host header cannot end
up in the absolute URLs the API writes. Production names its public host in
``PROFILESYNC_ALLOWED_HOSTS``; without it only this machine's own names answer.
"""

from __future__ import annotations

import socket

LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_BINDS = ("0.0.0.0", "::", "*", "")


def parse_allowed_hosts(value: str | None) -> list[str]:
    """``PROFILESYNC_ALLOWED_HOSTS``: comma-separated; unset or empty: this machine only."""
    hosts = [host.strip() for host in (value or "").split(",") if host.strip()]
    return hosts or list(LOCAL_HOSTS)


def hosts_for_bind(bind: str) -> str:
    """What ``profilesync demo --bind HOST:PORT`` answers to, as the setting's value: this
    machine's names, the bound address, and for a wildcard bind the machine's own name
    (what a colleague types to reach the demo)."""
    host = bind.rpartition(":")[0].strip("[]")
    hosts = list(LOCAL_HOSTS)
    if host in WILDCARD_BINDS:
        hosts += [socket.gethostname(), socket.getfqdn()]
    else:
        hosts.append(f"[{host}]" if ":" in host else host)
    return ",".join(dict.fromkeys(name for name in hosts if name))
