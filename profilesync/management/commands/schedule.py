"""``profilesync schedule get|set|show``: when the scheduled job "Bulk profile update" runs."""

from __future__ import annotations

import json
from datetime import datetime

from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.scheduling.clock import database_now
from profilesync.scheduling.cron import InvalidCronExpression, parse
from profilesync.scheduling.exclusive import SYNC_LEASE
from profilesync.scheduling.jobs import BULK_PROFILE_UPDATE, JOBS, Job
from profilesync.scheduling.lease import read_lease
from profilesync.scheduling.schedules import local_zone, next_due_times, schedule_of, set_schedule

_TIME = "%Y-%m-%d %H:%M:%S %Z"


class Command(ProfilesyncCommand):
    help = 'Show or change the cron schedule of "Bulk profile update (LDAP sync)".'

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        for action, text in (("get", "print the cron expression"),
                             ("set", "change the cron expression"),
                             ("show", "the schedule, its next due times and the running sync")):
            sub = actions.add_parser(action, help=text)
            sub.add_argument("--job", default=BULK_PROFILE_UPDATE.name, choices=sorted(JOBS),
                             help=f"the scheduled job (default {BULK_PROFILE_UPDATE.name})")
            if action == "set":
                sub.add_argument("cron", metavar="CRON",
                                 help='five fields "minute hour day-of-month month day-of-week", '
                                 'e.g. "0 */3 * * *" (every 3 hours), or @hourly, @daily, ...')
            if action == "show":
                sub.add_argument("--count", type=int, default=5,
                                 help="how many next due times (default 5)")
                sub.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args, action: str, job: str, **options) -> None:
        getattr(self, f"handle_{action}")(JOBS[job], **options)

    def handle_get(self, job: Job, **options) -> None:
        self.stdout.write(schedule_of(job).cron)

    def handle_set(self, job: Job, cron: str, **options) -> None:
        try:
            schedule = set_schedule(job, cron)
        except InvalidCronExpression as exc:
            raise usage_error(f"invalid cron expression: {exc.message}") from exc
        (first,) = next_due_times(parse(schedule.cron), database_now(), 1)
        self.stdout.write(f"{job.title}: schedule set to {schedule.cron!r}; "
                          f"next run {first.strftime(_TIME)}")

    def handle_show(self, job: Job, count: int, json: bool = False, **options) -> None:
        if count < 1:
            raise usage_error("--count: must be 1 or more")
        state = _schedule_state(job, count)
        if json:
            self.stdout.write(_dumps(_as_json(state)))
            return
        self.stdout.write(job.title)
        self.stdout.write(f"  schedule    {state['cron']}  (time zone {state['time_zone']})")
        self.stdout.write(f"  claimed to  {_shown(state['last_claimed_slot'])}")
        if state["waiting_slot"]:
            self.stdout.write(f"  due now     {_shown(state['waiting_slot'])} "
                              "(waiting for a worker: is `profilesync worker` running?)")
        for index, due in enumerate(state["next"]):
            self.stdout.write(f"  {'next' if index == 0 else '':<10}  {_shown(due)}")
        if state["running"]:
            running = state["running"]
            run = f"run {running['run']}" if running["run"] else "a run"
            self.stdout.write(f"  running     {run} held by {running['holder']} since "
                              f"{_shown(running['since'])}")
        elif state["stale_lease"]:
            self.stdout.write(f"  stopped     {state['stale_lease']['holder']} stopped renewing "
                              "its lease; the next run takes it over")


def _schedule_state(job: Job, count: int) -> dict:
    """The schedule, its next due times and the sync lease, times in the local zone."""
    schedule = schedule_of(job)
    cron = parse(schedule.cron)
    now = database_now()
    zone = local_zone()
    due_now = cron.latest_at_or_before(now, zone)
    lease = read_lease(SYNC_LEASE)
    running = lease.held and not lease.expired(now)
    return {
        "job": job.name,
        "title": job.title,
        "cron": schedule.cron,
        "time_zone": str(zone),
        "last_claimed_slot": schedule.claimed_slot.astimezone(zone),
        "waiting_slot": due_now.astimezone(zone) if due_now > schedule.claimed_slot else None,
        "next": next_due_times(cron, now, count),
        "running": {
            "holder": lease.holder, "run": lease.run_id,
            "since": lease.acquired_at.astimezone(zone),
            "lease_expires": lease.expires_at.astimezone(zone),
        } if running else None,
        "stale_lease": {"holder": lease.holder, "run": lease.run_id}
        if lease.held and not running else None,
    }


def _as_json(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_json(item) for item in value]
    return value


def _shown(value: datetime) -> str:
    return value.strftime(_TIME)


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
