"""The scheduled jobs this installation knows, with their default schedules."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class Job:
    name: str  # the key in the Schedule table and on the command line
    title: str  # what an administrator reads
    default_cron: str
    task_path: str  # the django-tasks task that does the work, "module.attribute"

    @property
    def task(self):
        return import_string(self.task_path)


BULK_PROFILE_UPDATE = Job(
    name="bulk_profile_update",
    title="Bulk profile update (LDAP sync)",
    default_cron="0 */3 * * *",
    task_path="profilesync.scheduling.tasks.bulk_profile_update",
)

# Where a directory offers no syncrepl (Active Directory, OpenLDAP without
# syncprov), deletions and users who left the filter are only found by comparing
# unique IDs; once a night keeps that cost (one ID-only read of every user) small.
LDAP_RECONCILIATION = Job(
    name="ldap_reconciliation",
    title="LDAP reconciliation (deleted users)",
    default_cron="30 2 * * *",
    task_path="profilesync.scheduling.tasks.ldap_reconciliation",
)

# Writes that found the directory unreachable wait here; each is retried with its own
# backoff, so a frequent slot only looks for due ones.
WRITEBACK_RETRY = Job(
    name="writeback_retry",
    title="Retry pending write-backs",
    default_cron="*/5 * * * *",
    task_path="profilesync.scheduling.tasks.retry_pending_writes",
)

# Alerts by mail and webhook (profilesync/monitoring/): one per incident, one on resolution.
ALERT_RULES = Job(
    name="alert_rules",
    title="Evaluate alert rules",
    default_cron="* * * * *",
    task_path="profilesync.monitoring.tasks.evaluate_alert_rules",
)

# The change history is kept PROFILESYNC_CHANGE_HISTORY_DAYS; older rows go once a night.
CHANGE_HISTORY_PRUNE = Job(
    name="change_history_prune",
    title="Prune the change history",
    default_cron="45 3 * * *",
    task_path="profilesync.scheduling.tasks.prune_change_history",
)

JOBS: dict[str, Job] = {job.name: job for job in (BULK_PROFILE_UPDATE, LDAP_RECONCILIATION,
                                                  WRITEBACK_RETRY, ALERT_RULES,
                                                  CHANGE_HISTORY_PRUNE)}
