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
    RECONCILIATION = "reconciliation", "Reconciliation"


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
    mode = models.CharField(max_length=16, choices=SyncMode.choices, default=SyncMode.FULL)
    # The configuration this run used, so a report explains itself later.
    timestamp_pattern = models.CharField(max_length=64, blank=True)
    watermark_before = models.DateTimeField(null=True, blank=True)
    watermark_after = models.DateTimeField(null=True, blank=True)
    watermark_source = models.CharField(max_length=200, blank=True)
    fields_filled = models.JSONField(default=list, blank=True)
    deletions_source = models.CharField(max_length=200, blank=True)
    # How changes were found (Active Directory: by uSNChanged on which DC, or why not),
    # including why an incremental run became a full one.
    change_tracking = models.CharField(max_length=500, blank=True)
    usn_before = models.PositiveBigIntegerField(null=True, blank=True)
    usn_after = models.PositiveBigIntegerField(null=True, blank=True)
    search_base = models.CharField(max_length=1000, blank=True)
    filter_sent = models.TextField(blank=True)
    # Why this part ran in its mode when it is not the one asked for (first import,
    # the Last LDAP sync date emptied, another domain controller).
    mode_reason = models.CharField(max_length=500, blank=True)
    # What the run learned and changed about the directory's settings, e.g. the
    # page size the server allows, one sentence each.
    notes = models.JSONField(default=list, blank=True)
    # When the deactivation guard stopped this part: who would have been deactivated
    # (user names, at most MAX_LISTED with a last line for the rest).
    would_deactivate = models.JSONField(default=list, blank=True)
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


class DataSourceSettings(models.Model):
    """The installation's LDAP data source settings: one row (pk 1)."""

    incremental_sync = models.BooleanField(default=False)
    # The global write-back switch: off, no field writes back, whatever its own setting.
    writeback_enabled = models.BooleanField(default=False)
    # Shown as "Last LDAP sync date". Setting it sets every directory's watermark.
    last_ldap_sync_date = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    @classmethod
    def load(cls) -> DataSourceSettings:
        settings, _ = cls.objects.get_or_create(pk=1)
        return settings


class DirectorySyncState(models.Model):
    """What the next run of one directory starts from; changed only by a successful run.

    ``watermark`` is a time on the directory's own clock: entries with a
    modification time at or after it have not been read yet. ``field_mappings``
    lists the ``key:type:attribute`` triples every profile was last filled
    with, so a field added or remapped since is fetched for everyone.
    """

    directory = models.OneToOneField(Directory, on_delete=models.CASCADE,
                                     related_name="sync_state")
    watermark = models.DateTimeField(null=True, blank=True)
    field_mappings = models.JSONField(null=True, blank=True)
    last_full_sync_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_reconciled_at = models.DateTimeField(null=True, blank=True)
    # RFC 4533 cookie of the last content synchronisation, where the directory offers it.
    syncrepl_cookie = models.BinaryField(null=True, blank=True)
    # Active Directory: highestCommittedUSN read before the last successful run, and the
    # domain controller that numbered it (USNs of another or a restored DC mean nothing).
    usn_watermark = models.PositiveBigIntegerField(null=True, blank=True)
    usn_server_dn = models.CharField(max_length=1000, blank=True)
    usn_invocation_id = models.CharField(max_length=36, blank=True)

    @classmethod
    def for_directory(cls, directory: Directory) -> DirectorySyncState:
        state, _ = cls.objects.get_or_create(directory=directory)
        return state


class ChangeAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DEACTIVATE = "deactivate", "Deactivated"
    REACTIVATE = "reactivate", "Reactivated"
    EDIT = "edit", "Edited by the person"


class PersonChange(models.Model):
    """What changed for one person: one row per person a run touched, or per own edit.

    Keyed by directory and unique ID rather than a profile foreign key, so a
    run's rows are written in bulk with the profiles they describe (a created
    profile has no key yet) and a person's history survives a profile's removal.
    ``fields`` maps a field key to ``{"old": ..., "new": ...}`` (pictures by their
    SHA-256). Rows of a sync carry their ``run``; an own edit has none and says
    its write-back outcome in ``outcome``. Pruned after
    ``PROFILESYNC_CHANGE_HISTORY_DAYS`` (:mod:`.history`).
    """

    # No index of their own: the composite indexes below lead with them, and every index
    # is paid for by every row a run writes.
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.CASCADE,
                            related_name="changes", db_index=False)
    directory = models.ForeignKey(Directory, null=True, on_delete=models.SET_NULL,
                                  related_name="+", db_index=False)
    directory_name = models.CharField(max_length=64)
    unique_id = models.CharField(max_length=255)
    username = models.CharField(max_length=255)
    action = models.CharField(max_length=16, choices=ChangeAction.choices)
    fields = models.JSONField(default=dict)
    actor = models.CharField(max_length=255, blank=True)
    outcome = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["run", "action"], name="personchange_run_action"),
            models.Index(fields=["directory", "unique_id", "at"], name="personchange_person"),
        ]


class SyncPreview(models.Model):
    """A dry run asked for on the Sync report page, run by a worker (:mod:`.preview_task`).

    The dry run itself writes nothing; this row is the page's record of what it
    found: the run object (``summary``, as ``sync --dry-run --json`` prints it,
    with each directory's guard verdict) and one entry per person who would
    change (``changes``, as ``--changes FILE`` writes them).
    """

    requested_at = models.DateTimeField()
    requested_by = models.CharField(max_length=255)
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    finished_at = models.DateTimeField(null=True, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    changes = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]

    @property
    def guard_tripped(self) -> bool:
        return any(part.get("guard", {}).get("tripped")
                   for part in self.summary.get("directories", {}).values())
