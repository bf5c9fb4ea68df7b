"""Each directory's live-update setting and its listener's state, shared by every worker.

Kept beside the directory (one row each) rather than on it, so the listener's
frequent state writes never touch the directory row an administrator edits.
"""

from __future__ import annotations

from django.db import models

from profilesync.directories.models import Directory

DEFAULT_POLL_SECONDS = 10


class LiveState(models.TextChoices):
    CONNECTED = "connected", "Connected"
    POLLING = "polling", "Polling"
    OFF = "off", "Off"
    RECONNECTING = "reconnecting", "Reconnecting"


class LiveListener(models.Model):
    """``live``: None follows the server (on where it pushes or notifies), else the choice.

    The rest is written by the listener: its ``state`` since when, the
    ``method`` in use, the last change applied, and a sentence for the
    operator (why it is off, reconnecting or polling, what it fell back to).
    """

    directory = models.OneToOneField(Directory, on_delete=models.CASCADE,
                                     related_name="live_listener")
    live = models.BooleanField(null=True, blank=True, default=None)
    poll_seconds = models.FloatField(default=DEFAULT_POLL_SECONDS)
    state = models.CharField(max_length=16, choices=LiveState.choices, default=LiveState.OFF)
    since = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=64, blank=True)
    holder = models.CharField(max_length=200, blank=True)
    last_change_at = models.DateTimeField(null=True, blank=True)
    changes_applied = models.PositiveBigIntegerField(default=0)
    message = models.TextField(blank=True)

    @classmethod
    def for_directory(cls, directory: Directory) -> LiveListener:
        row, _ = cls.objects.get_or_create(directory=directory)
        return row

    def __str__(self) -> str:
        return f"{self.directory_id}: {self.state}"
