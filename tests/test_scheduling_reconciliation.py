"""The nightly "LDAP reconciliation" job: deletions found where no syncrepl tells them."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from profilesync.scheduling.jobs import LDAP_RECONCILIATION
from profilesync.scheduling.models import Schedule
from profilesync.scheduling.scheduler import run_due_jobs
from profilesync.scheduling.schedules import schedule_of
from profilesync.sync.models import RunStatus, SyncMode, SyncRun
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db(transaction=True)


def test_reconciliation_runs_nightly_by_default():
    """Without configuration, the reconciliation is due once a night at 02:30."""
    assert schedule_of(LDAP_RECONCILIATION).cron == "30 2 * * *"


def test_due_reconciliation_slot_deactivates_deleted_people(subtree, make_directory, profiles):
    """When the nightly slot comes, a worker runs a reconciliation and the person deleted
    from the directory since the last sync is deactivated."""
    dns = subtree.add_people(5)
    directory = make_directory(subtree)
    run_sync([directory], mode=SyncMode.FULL)
    subtree.delete(dns[0])
    schedule_of(LDAP_RECONCILIATION)
    Schedule.objects.filter(job=LDAP_RECONCILIATION.name).update(
        claimed_slot=datetime(2026, 1, 1, tzinfo=UTC))

    claimed = run_due_jobs(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))
    call_command("worker", "--batch", stdout=StringIO())

    assert [c.job.name for c in claimed] == [LDAP_RECONCILIATION.name]
    run = SyncRun.objects.get(mode=SyncMode.RECONCILIATION)
    assert (run.status, run.trigger) == (RunStatus.SUCCEEDED, "schedule")
    assert not profiles(directory)["user000"].active
    assert sum(p.active for p in profiles(directory).values()) == 4
