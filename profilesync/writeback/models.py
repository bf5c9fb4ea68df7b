"""Writes waiting for the directory, and the audit log of every write attempt."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from profilesync.profiles.models import Profile


class PendingStatus(models.TextChoices):
    PENDING = "pending", "Pending (will be retried)"
    REFUSED = "refused", "Refused by the directory"
    DONE = "done", "Written"
    SUPERSEDED = "superseded", "Replaced by a newer edit"
    ENDED = "ended", "No longer applies"
    WITHDRAWN = "withdrawn", "Withdrawn by the person"


# What a person (and administrators) still see on the profile: the rest is history.
OPEN_STATUSES = (PendingStatus.PENDING, PendingStatus.REFUSED, PendingStatus.ENDED)


class PendingWrite(models.Model):
    """A person's edit of one LDAP-fed field that is not in the directory yet.

    The profile shows the person's value with a "pending" mark, and a sync
    never overwrites the field while the row is pending.
    """

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="pending_writes")
    field_key = models.CharField(max_length=64)
    # The field's type when the person saved: a retry after the type changed would
    # write a value of the old shape, so it ends the row instead.
    field_type = models.CharField(max_length=16, blank=True)
    attribute = models.CharField(max_length=100)
    value = models.JSONField(null=True, blank=True, help_text="the person's value")
    expected = models.JSONField(null=True, blank=True,
                                help_text="the directory value the person saw")
    status = models.CharField(max_length=16, choices=PendingStatus.choices,
                              default=PendingStatus.PENDING)
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # A retry claims the row with one conditional UPDATE (token plus a lease in
    # next_attempt_at), so two workers or overlapping runs never act on one row.
    claim_token = models.CharField(max_length=32, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "next_attempt_at"])]


class WriteResultKind(models.TextChoices):
    WRITTEN = "written", "Written"
    CONFLICT = "conflict", "Conflict: changed in the directory"
    PENDING = "pending", "Pending: directory unreachable"
    REFUSED = "refused", "Refused by the directory"


class WriteAudit(models.Model):
    """One write attempt: who, whose profile, which attribute, old and new value, result.

    Pictures are recorded by their SHA-256, not their bytes.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.CharField(max_length=255)
    profile = models.ForeignKey(Profile, null=True, on_delete=models.SET_NULL, related_name="+")
    profile_username = models.CharField(max_length=255)
    directory_name = models.CharField(max_length=64)
    dn = models.CharField(max_length=1000)
    attribute = models.CharField(max_length=100)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    result = models.CharField(max_length=16, choices=WriteResultKind.choices)
    method = models.CharField(max_length=32, blank=True)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-id"]
