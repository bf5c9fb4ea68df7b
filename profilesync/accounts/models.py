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
