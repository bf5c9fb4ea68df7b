"""The live listeners (profilesync.live) as monitoring sees them: metrics and the "down" alert.

Read from the database at scrape or evaluation time, like every other figure:
each directory's ``LiveListener`` row (the state its listener last wrote) and
its live lease (``live:<pk>``), whose expiry the holder pushes forward every
few seconds. The lease is the listener's heartbeat: a worker killed mid-listen
leaves its last state ("connected") in the row, but its lease runs out, so
"held" is what tells a listener that runs from one that only used to.

A listener is *down* when one should run here (the directory is syncable,
was imported once, its live setting asks for a listener as the supervisor
decides, and the listener did not itself find live off for it) and either
it is ``reconnecting`` or no worker holds its lease. It alerts once it has
been down for longer than
``PROFILESYNC_ALERT_LIVE_DOWN_SECONDS`` (default 600; 0 turns the rule off).
The setting is read here, from Django's settings or else the environment, so
the live app's and the project's settings stay as they are.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DOWN_SETTING = "PROFILESYNC_ALERT_LIVE_DOWN_SECONDS"
DEFAULT_DOWN_SECONDS = 600.0
STATES = ("connected", "polling", "reconnecting", "off")


def down_threshold() -> timedelta | None:
    """How long a listener may be down before it alerts; None when the rule is off (0)."""
    raw = getattr(settings, DOWN_SETTING, None)
    if raw in (None, ""):
        raw = os.environ.get(DOWN_SETTING, "") or DEFAULT_DOWN_SECONDS
    try:
        seconds = float(raw)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds >= 0:
        raise ImproperlyConfigured(
            f"{DOWN_SETTING} is {raw!r}: give a number of seconds (600 is the default), "
            "or 0 to turn the live-listener alert off")
    return timedelta(seconds=seconds) if seconds > 0 else None


@dataclass(frozen=True)
class ListenerView:
    directory_pk: int
    directory: str
    state: str
    since: datetime | None
    last_change_at: datetime | None
    changes_applied: int
    message: str
    holder: str          # who holds the live lease now ("" when nobody does)
    wanted: bool         # a listener should run for this directory
    down_since: datetime | None  # when it went down, None while it is up (or not wanted)


def listener_views(now: datetime) -> list[ListenerView]:
    """One view per directory, in name order: four queries whatever the number of directories."""
    from profilesync.directories.models import Directory
    from profilesync.live.models import LiveListener, LiveState
    from profilesync.live.supervisor import wanted
    from profilesync.scheduling.models import SyncLease
    from profilesync.sync.models import DirectorySyncState

    rows = {row.directory_id: row for row in LiveListener.objects.all()}
    leases = {lease.name: lease for lease in SyncLease.objects.filter(name__startswith="live:")}
    imported = set(DirectorySyncState.objects.filter(last_success_at__isnull=False)
                   .values_list("directory_id", flat=True))
    views = []
    for directory in Directory.objects.order_by("name"):
        row = rows.get(directory.pk)
        lease = leases.get(f"live:{directory.pk}")
        held = bool(lease and lease.holder and lease.expires_at and lease.expires_at >= now)
        state = row.state if row is not None else LiveState.OFF.value
        should_run = (directory.sync_refusal() is None and directory.pk in imported
                      and (row is None or (wanted(row) and not _off_by_its_own_choice(row))))
        down_since = None
        if should_run and held and state == LiveState.RECONNECTING:
            down_since = row.since or now
        elif should_run and not held:
            # Since its holder's last heartbeat ran out, or it was released; never held: since
            # the listener last wrote its state, else since the directory was added.
            down_since = ((lease.expires_at or lease.renewed_at) if lease and lease.acquired_at
                          else None) or (row.since if row is not None else None) or directory.created_at
        views.append(ListenerView(
            directory.pk, directory.name, state, row.since if row is not None else None,
            row.last_change_at if row is not None else None,
            row.changes_applied if row is not None else 0, row.message if row is not None else "",
            lease.holder if held else "", should_run, down_since))
    return views


def _off_by_its_own_choice(row) -> bool:
    """The listener itself found live off here (e.g. an AD without the notification control).

    It then writes ``off`` and clears the holder; a worker that stopped keeps its name
    there, and a row no listener has written yet has no ``since``.
    """
    return row.state == "off" and not row.holder and row.since is not None
