"""The schedule of "Bulk profile update (LDAP sync)": stored, editable, and each due slot run once.

Racing claimers are threads with connections of their own (the ``race``
fixture), so these tests use committed data (``transaction=True``); each round
releases the threads together so their UPDATEs meet in the database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from profilesync.scheduling.clock import database_now
from profilesync.scheduling.jobs import BULK_PROFILE_UPDATE
from profilesync.scheduling.models import Schedule
from profilesync.scheduling.scheduler import claim_slot, run_due_jobs
from profilesync.scheduling.schedules import schedule_of, set_schedule

pytestmark = pytest.mark.django_db(transaction=True)

JOB = BULK_PROFILE_UPDATE


def queued_tasks() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=JOB.task_path))


def test_a_due_slot_is_claimed_by_exactly_one_of_racing_claimers(race):
    """Two schedulers claiming the same slot at the same moment: one wins, every time."""
    schedule = schedule_of(JOB)
    start = schedule.claimed_slot.replace(microsecond=0) + timedelta(hours=1)
    for round_number in range(20):
        slot = start + timedelta(hours=3 * round_number)
        results = race(2, lambda slot=slot: claim_slot(JOB, slot))
        assert sorted(results) == [False, True], f"slot {slot}"
    assert Schedule.objects.get(job=JOB.name).claimed_slot == start + timedelta(hours=57)


def test_racing_scheduler_ticks_queue_one_task_for_the_due_slot(race):
    """Three workers' scheduler ticks at the same instant queue the sync once."""
    schedule_of(JOB)
    Schedule.objects.filter(job=JOB.name).update(claimed_slot=datetime(2026, 1, 1, tzinfo=UTC))
    now = datetime(2026, 1, 1, 4, 30, tzinfo=UTC)

    results = race(3, lambda: run_due_jobs(now))

    assert sorted(len(claimed) for claimed in results) == [0, 0, 1]
    (task,) = queued_tasks()
    assert task.args_kwargs["kwargs"] == {"trigger": "schedule", "slot": "2026-01-01T03:00:00+00:00"}
    assert Schedule.objects.get(job=JOB.name).claimed_slot == datetime(2026, 1, 1, 3, tzinfo=UTC)


def test_later_ticks_do_not_queue_the_same_slot_again():
    """Once a slot is claimed, ticks until the next due time queue nothing."""
    schedule_of(JOB)
    Schedule.objects.filter(job=JOB.name).update(claimed_slot=datetime(2026, 1, 1, tzinfo=UTC))
    assert len(run_due_jobs(datetime(2026, 1, 1, 3, 0, tzinfo=UTC))) == 1
    for minutes in (1, 30, 179):
        assert run_due_jobs(datetime(2026, 1, 1, 3, tzinfo=UTC) + timedelta(minutes=minutes)) == []
    assert len(run_due_jobs(datetime(2026, 1, 1, 6, 0, tzinfo=UTC))) == 1
    assert len(queued_tasks()) == 2


def test_slots_missed_while_no_worker_ran_are_run_once_not_once_each():
    """After two days without workers, the sync runs once, for the latest missed slot."""
    schedule_of(JOB)
    Schedule.objects.filter(job=JOB.name).update(claimed_slot=datetime(2026, 1, 1, tzinfo=UTC))

    (claimed,) = run_due_jobs(datetime(2026, 1, 3, 1, 0, tzinfo=UTC))

    assert claimed.slot == datetime(2026, 1, 3, 0, 0, tzinfo=UTC)
    assert len(queued_tasks()) == 1


def test_a_new_schedule_first_runs_at_its_next_due_time():
    """Installing (or first using) the job does not start a sync at once."""
    schedule = schedule_of(JOB)
    assert schedule.cron == "0 */3 * * *"
    assert run_due_jobs(schedule.claimed_slot) == []
    assert queued_tasks() == []


def test_changing_the_schedule_does_not_run_slots_already_past():
    """Switching to "every minute" runs at the next minute, not for the minutes gone by."""
    schedule_of(JOB)
    Schedule.objects.filter(job=JOB.name).update(claimed_slot=database_now() - timedelta(hours=2))

    changed_at = set_schedule(JOB, "* * * * *").claimed_slot

    assert [c for c in run_due_jobs(changed_at) if c.job == JOB] == []
    next_minute = changed_at.replace(second=0, microsecond=0) + timedelta(minutes=1)
    # Other jobs (the write-back retry, every 5 minutes) may fall due at the same minute.
    assert len([c for c in run_due_jobs(next_minute) if c.job == JOB]) == 1


# -- the command line ------------------------------------------------------

def test_schedule_get_prints_the_default(cli):
    code, out, _err = cli("schedule", "get")
    assert (code, out.strip()) == (0, "0 */3 * * *")


def test_schedule_set_changes_what_get_prints(cli):
    code, out, _err = cli("schedule", "set", "15 2 * * mon-fri")
    assert code == 0 and "next run" in out
    assert cli("schedule", "get")[1].strip() == "15 2 * * mon-fri"


@pytest.mark.parametrize(("expr", "field"), [
    ("0 24 * * *", "hour"), ("0 */3 * *", "expression"), ("0 0 30 2 *", "day-of-month"),
    ("0 0 * * someday", "day-of-week")])
def test_schedule_set_refuses_an_invalid_expression_with_exit_code_2(cli, expr, field):
    """The message names the field at fault and shows a correct expression; nothing is saved."""
    code, _out, err = cli("schedule", "set", expr)

    assert code == 2
    assert f"{field}: " in err
    assert '"0 */3 * * *"' in err
    assert cli("schedule", "get")[1].strip() == "0 */3 * * *"


@override_settings(TIME_ZONE="Europe/Berlin")
def test_schedule_show_lists_next_due_times_in_the_configured_time_zone(cli):
    """In Berlin, "0 9 * * *" shows as 09:00 local time, whatever the server's UTC says."""
    cli("schedule", "set", "0 9 * * *")

    code, out, _err = cli("schedule", "show", "--json", "--count", "3")

    shown = json.loads(out)
    assert code == 0 and shown["time_zone"] == "Europe/Berlin"
    times = [datetime.fromisoformat(t) for t in shown["next"]]
    assert len(times) == 3 and times == sorted(times)
    assert all(t.hour == 9 and t.minute == 0 and t.utcoffset() in (
        timedelta(hours=1), timedelta(hours=2)) for t in times)
    assert shown["running"] is None

    code, out, _err = cli("schedule", "show")
    assert code == 0 and "09:00:00 CE" in out and "Europe/Berlin" in out
