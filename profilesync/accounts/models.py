"""What the accounts app stores beyond Django's own user table."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class DirectoryDeactivation(models.Model):
    """A login made inactive because the directory removed or disabled its person.

    Only these logins come back by themselves when the person returns to the
    directory; a login an operator deactivated stays inactive.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="directory_deactivation")
    deactivated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} deactivated at {self.deactivated_at:%Y-%m-%d %H:%M}"


class LoginAttempts(models.Model):
    """Login attempts counted in one window, for a user name from an address group, or for
    an address group (``throttle.py``). In the database because an ``UPDATE`` of one row
    is atomic on SQLite and PostgreSQL alike, across processes and nodes; a file cache's
    read-then-write is not."""

    key = models.CharField(max_length=100, unique=True)
    window_start = models.DateTimeField(db_index=True)
    attempts = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.key}: {self.attempts} since {self.window_start:%H:%M:%S}"
