"""What the scheduler and the sync lease keep in the database, shared by every worker.

Both tables are changed only by conditional UPDATEs (``WHERE`` the row is still as
the writer last saw it), so several workers on several machines can share them
without locks held across a run: see ``scheduler.claim_slot`` and ``lease``.
"""

from __future__ import annotations

from django.db import models

from profilesync.sync.models import SyncRun


class Schedule(models.Model):
    """One scheduled job: its cron expression and the last due slot a scheduler claimed."""

    job = models.CharField(primary_key=True, max_length=64)
    cron = models.CharField(max_length=200)
    # The latest due time some scheduler has claimed (and queued a task for). A slot is
    # claimed by moving this forward, which only one claimer can do for a given slot.
    claimed_slot = models.DateTimeField()
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.job}: {self.cron}"


class SyncLease(models.Model):
    """The right to run a sync, held by one worker at a time across the cluster.

    ``holder`` is empty when nobody holds it. ``generation`` grows by one at every
    acquisition, so the acquirer knows exactly whose lease it replaced, and a holder
    whose lease was taken over finds out at its next renewal.
    """

    name = models.CharField(primary_key=True, max_length=64)
    holder = models.CharField(max_length=200, blank=True, default="")
    generation = models.BigIntegerField(default=0)
    run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="+")
    acquired_at = models.DateTimeField(null=True, blank=True)
    renewed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.holder or '(free)'}"


class InterruptedRun(models.Model):
    """Why a sync run ended without finishing: its worker stopped, or an error escaped.

    ``superseded_at`` is set when the run's worker had only stalled and came back
    after a takeover: its fencing check failed and it rolled back (``sync.fence``).
    """

    run = models.OneToOneField(SyncRun, on_delete=models.CASCADE, primary_key=True,
                               related_name="interruption")
    holder = models.CharField(max_length=200)
    message = models.TextField()
    recorded_at = models.DateTimeField()
    superseded_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"run {self.run_id}: {self.message}"
