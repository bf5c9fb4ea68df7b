"""Personal API tokens: how a script or another system calls the API as a login.

Only a digest of each token is stored, so a copy of the database (a backup, a
replica) does not hand out working tokens; the token itself is shown once,
when it is made. The first characters are kept in clear so a person can tell
their tokens apart in a list and revoke the right one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for")
    prefix = models.CharField(max_length=16, help_text="The token's first characters")
    digest = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the token")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True,
                                      help_text="After this the token no longer works; "
                                      "empty: until revoked")

    class Meta:
        ordering = ["user_id", "created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"
