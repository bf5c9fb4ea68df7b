"""``profilesync worker``: run queued tasks and the scheduler until stopped (SIGTERM, SIGINT)."""

from __future__ import annotations

import logging

from django.conf import settings

from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.monitoring.json_logs import JsonLineFormatter
from profilesync.scheduling.worker import default_worker_id, run_worker

_TASK_LOGGERS = ("django_tasks", "django_tasks_db", "profilesync.scheduling")


class Command(ProfilesyncCommand):
    help = ("Run background tasks (syncs queued by the schedule or by `sync --background`) "
            "and the scheduler that queues them when due. Run one or more per cluster.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                            help="how often an idle worker looks for queued tasks (default 1)")
        parser.add_argument("--schedule-interval", type=float, metavar="SECONDS",
                            default=settings.PROFILESYNC_SCHEDULER_INTERVAL_SECONDS,
                            help="how often the scheduler looks for due slots (default "
                            f"{settings.PROFILESYNC_SCHEDULER_INTERVAL_SECONDS:g})")
        parser.add_argument("--no-scheduler", action="store_true",
                            help="only run tasks; leave due slots to other workers")
        parser.add_argument("--queue", default="default",
                            help="the task queue to take tasks from (default 'default')")
        parser.add_argument("--worker-id", default=None,
                            help="this worker's name in the task table and the sync lease, "
                            "unique in the cluster (default HOST:PID)")
        parser.add_argument("--batch", action="store_true",
                            help="run the tasks queued now, then exit (no scheduler)")

    def handle(self, *args, interval: float, schedule_interval: float, no_scheduler: bool,
               queue: str, worker_id: str | None, batch: bool, verbosity: int, **options) -> None:
        if interval < 0:
            raise usage_error("--interval: must be 0 or more seconds")
        if schedule_interval <= 0:
            raise usage_error("--schedule-interval: must be more than 0 seconds")
        worker_id = worker_id or default_worker_id()
        if not 0 < len(worker_id) <= 64:
            raise usage_error("--worker-id: must be 1 to 64 characters")
        _show_task_logs(verbosity)
        scheduling = not (no_scheduler or batch)
        started_line = (f"worker {worker_id}: tasks from queue {queue!r} every {interval:g} s; "
                        + (f"scheduler every {schedule_interval:g} s" if scheduling
                           else "no scheduler"))

        def announce() -> None:
            # Written once SIGTERM is handled, so whoever waits for it may stop us cleanly.
            self.stdout.write(started_line)
            self.stdout.flush()

        run_worker(worker_id=worker_id, queue_names=[queue], interval=interval,
                   schedule_interval=schedule_interval if scheduling else None, batch=batch,
                   announce=announce)


def _show_task_logs(verbosity: int) -> None:
    """Tasks started and finished, slots claimed: shown at the default verbosity."""
    if verbosity < 1:
        return
    level = logging.DEBUG if verbosity > 1 else logging.INFO
    for name in _TASK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() > level:
            logger.setLevel(level)
        if not logger.handlers and not logging.getLogger(name.split(".")[0]).handlers:
            handler = logging.StreamHandler()
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
                                 if settings.PROFILESYNC_LOG_FORMAT == "plain" else JsonLineFormatter())
            logger.addHandler(handler)
