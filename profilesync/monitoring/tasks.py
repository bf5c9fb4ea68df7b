"""The scheduled job "Evaluate alert rules": run by a worker, once per due slot across the cluster.

It holds the ``alerts`` lease while it evaluates, so a "Run now" that overlaps
a scheduled evaluation does not open or tell an incident twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django_tasks import TaskContext, task

from profilesync.scheduling.clock import database_now
from profilesync.scheduling.lease import LeaseHeld, acquire, release

from .heartbeat import forget_old_workers
from .incidents import evaluate

log = logging.getLogger(__name__)

ALERTS_LEASE = "alerts"
# Long enough for every webhook's retries, short enough that a killed worker's lease
# does not hold the next evaluations back for long.
LEASE_DURATION = timedelta(minutes=10)


@task(takes_context=True)
def evaluate_alert_rules(context: TaskContext, trigger: str = "schedule",
                         slot: str | None = None) -> dict:
    worker_ids = context.task_result.worker_ids
    holder = f"alerts:{worker_ids[-1] if worker_ids else 'unknown'}"
    try:
        lease = acquire(ALERTS_LEASE, holder, duration=LEASE_DURATION)
    except LeaseHeld as exc:
        log.info("alert evaluation skipped reason=%s", exc)
        return {"ran": False, "reason": str(exc), "slot": slot}
    try:
        result = evaluate()
        forget_old_workers(database_now())
    finally:
        release(lease)
    return {"ran": True, "slot": slot, **result.as_json()}
