"""What monitoring keeps in the database, shared by every node: heartbeats, recipients, incidents."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class WorkerHeartbeat(models.Model):
    """The last sign of life of one ``profilesync worker`` (one row per worker id)."""

    worker_id = models.CharField(primary_key=True, max_length=64)
    beat_at = models.DateTimeField()
    started_at = models.DateTimeField()
    runs_scheduler = models.BooleanField(default=True)


class RecipientKind(models.TextChoices):
    MAIL = "mail", "Mail"
    WEBHOOK = "webhook", "Webhook"


class AlertRecipient(models.Model):
    """Someone (a mail address) or something (a webhook URL) told about every incident.

    A webhook's secret signs each delivery (HMAC-SHA256); it is stored encrypted
    like bind passwords, because signing needs it back, and is never shown again.
    """

    kind = models.CharField(max_length=16, choices=RecipientKind.choices)
    target = models.CharField(max_length=2000, help_text="mail address or webhook URL")
    secret = models.TextField(blank=True, help_text="encrypted webhook secret")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["kind", "target"], name="monitoring_recipient_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.target}"


class Incident(models.Model):
    """One stretch of time an alert condition held: opened once, resolved once, told once each.

    ``key`` names the condition (rule and directory); at most one incident per key
    is open, which the partial unique constraint enforces even when two evaluations
    race. ``told_open`` lists the recipients told of the opening; each is told
    once, and a recipient whose mail server or webhook failed is tried again at
    the next evaluation (up to ``MAX_DELIVERY_ROUNDS``). ``opened_sent_at`` is set
    when every recipient was told (or given up on). The resolution goes to
    exactly those who heard of the opening, once each (``told_resolved``).
    """

    MAX_DELIVERY_ROUNDS = 30


    key = models.CharField(max_length=200)
    rule = models.CharField(max_length=64)
    directory_name = models.CharField(max_length=64, blank=True)
    cause = models.TextField()
    page = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    opened_sent_at = models.DateTimeField(null=True, blank=True)
    resolved_sent_at = models.DateTimeField(null=True, blank=True)
    told_open = models.JSONField(default=list, blank=True)
    told_resolved = models.JSONField(default=list, blank=True)
    delivery_rounds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["key"], condition=Q(resolved_at__isnull=True),
                                               name="monitoring_one_open_incident_per_key")]

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
