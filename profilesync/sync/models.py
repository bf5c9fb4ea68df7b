"""The sync report: one row per run, one per directory within it."""

from __future__ import annotations

from django.db import models

from profilesync.directories.models import Directory


class RunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class SyncMode(models.TextChoices):
    FULL = "full", "Full"
    INCREMENTAL = "incremental", "Incremental"


class SyncRun(models.Model):
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    mode = models.CharField(max_length=16, choices=SyncMode.choices)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    forced = models.BooleanField(default=False)
    trigger = models.CharField(max_length=32, default="cli")

    class Meta:
        ordering = ["-started_at", "-id"]

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class DirectoryRunResult(models.Model):
    """What one run did to one directory, with the configuration it used."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="results")
    directory = models.ForeignKey(Directory, on_delete=models.SET_NULL, null=True,
                                  related_name="run_results")
    directory_name = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    deactivated = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)
    search_base = models.CharField(max_length=1000, blank=True)
    filter_sent = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "id"]

    def as_report(self) -> dict:
        return {
            "status": self.status,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deactivated": self.deactivated,
            "failed": self.failed,
            "errors": self.errors,
        }
