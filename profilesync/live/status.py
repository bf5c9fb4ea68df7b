"""The live setting as people change it, and the listener's state as they see it."""

from __future__ import annotations

from profilesync.directories.models import Directory
from profilesync.errors import InvalidSetting

from .models import LiveListener, LiveState

LIVE_CHOICES = {"on": True, "off": False, "default": None}
MIN_POLL_SECONDS = 1.0


def set_live(directory: Directory, live: str | None = None,
             poll_seconds: float | None = None) -> LiveListener:
    """``live``: "on", "off" or "default" (on where the server pushes or notifies)."""
    row = LiveListener.for_directory(directory)
    fields = []
    if live is not None:
        if live not in LIVE_CHOICES:
            raise InvalidSetting("live", f"{live!r} is not one of on, off, default")
        if row.live != LIVE_CHOICES[live]:
            row.live = LIVE_CHOICES[live]
            row.message = ""  # what the last listener concluded no longer holds
            fields += ["live", "message"]
    if poll_seconds is not None:
        if not poll_seconds >= MIN_POLL_SECONDS:
            raise InvalidSetting("live_poll_seconds",
                                 f"{poll_seconds:g} is too short: at least {MIN_POLL_SECONDS:g} s")
        row.poll_seconds = poll_seconds
        fields.append("poll_seconds")
    if fields:
        row.save(update_fields=fields)
    return row


def live_setting(row: LiveListener) -> str:
    return {True: "on", False: "off", None: "default"}[row.live]


def live_status(directory: Directory) -> dict:
    """``{"state", "since", "last_change_at", "method", ...}`` for show --json and the pages."""
    row = LiveListener.objects.filter(directory=directory).first()
    if row is None:
        return {"state": LiveState.OFF.value, "since": None, "last_change_at": None,
                "method": "", "setting": "default", "poll_seconds": 10.0, "message": "",
                "holder": "", "changes_applied": 0}
    return {
        "state": row.state,
        "since": row.since.isoformat() if row.since else None,
        "last_change_at": row.last_change_at.isoformat() if row.last_change_at else None,
        "method": row.method,
        "setting": live_setting(row),
        "poll_seconds": row.poll_seconds,
        "message": row.message,
        "holder": row.holder,
        "changes_applied": row.changes_applied,
    }
