"""The ``profilesync worker`` process: the django-tasks-db worker plus the scheduler loop.

The task worker runs in the main thread (django-tasks-db's own ``Worker``: it
takes a task with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, an
exclusive transaction on SQLite); the scheduler loop runs in a thread beside it.

Stopping, on SIGTERM or SIGINT: the scheduler stops at once; an idle worker
exits at once; a worker in the middle of a task finishes it first (a second
signal stops it at once, and the run is recorded as failed, saying so).
"""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType

from django_tasks_db.management.commands.db_worker import Worker

from profilesync.monitoring.heartbeat import HeartbeatThread

from .scheduler import SchedulerLoop

DEFAULT_BACKEND = "default"


def default_worker_id() -> str:
    """Host and pid: unique across the pool, and tells an operator where to look."""
    return f"{socket.gethostname()}:{os.getpid()}"[-64:]


class _TaskWorker(Worker):
    """django-tasks-db's worker, telling the scheduler loop to stop when it is told to."""

    def __init__(self, *, scheduler: SchedulerLoop | None, **options):
        super().__init__(**options)
        self.scheduler = scheduler

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if self.scheduler is not None:
            self.scheduler.stop(wait=False)
        super().shutdown(signum, frame)


def run_worker(*, worker_id: str, queue_names: list[str], interval: float,
               schedule_interval: float | None, batch: bool = False,
               announce: Callable[[], None] | None = None) -> None:
    """Run until told to stop (or, with ``batch``, until the queue is empty).

    ``schedule_interval`` None runs no scheduler loop in this process. ``announce`` is
    called once the stop signals are handled: a service manager (or a test) that waits
    for the worker's first line and then sends SIGTERM gets a clean exit, never the
    default action of a signal that came before the handlers (exit -15).
    """
    scheduler = None
    if schedule_interval is not None:
        scheduler = SchedulerLoop(interval=schedule_interval, name=f"scheduler-{worker_id}")
    worker = _TaskWorker(
        scheduler=scheduler, queue_names=queue_names, interval=interval, batch=batch,
        backend_name=DEFAULT_BACKEND, startup_delay=not batch, max_tasks=None,
        worker_id=worker_id, excluded_queue_names=[],
    )
    heartbeat = None if batch else HeartbeatThread(worker_id, runs_scheduler=scheduler is not None)
    live = None if batch else _live_supervisor(worker_id)
    previous_handlers = {signum: signal.getsignal(signum) for signum in _STOP_SIGNALS}
    worker.configure_signals()
    receiver = _SignalReceiver()
    try:
        with receiver:
            if scheduler is not None:
                scheduler.start()  # after blocking: only the receiver gets stop signals
            if heartbeat is not None:
                heartbeat.start()
            if live is not None:
                live.start()  # after blocking, like the scheduler: listeners inherit the mask
            if announce is not None:
                announce()
            worker.run()
    finally:
        if live is not None:
            live.stop()
        if heartbeat is not None:
            heartbeat.stop()
        if scheduler is not None:
            scheduler.stop()
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)


def _live_supervisor(worker_id: str):
    """The live-update listeners of this worker (profilesync.live), one per directory."""
    from profilesync.live.supervisor import LiveSupervisor  # the live app builds on this one

    return LiveSupervisor(worker_id)


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)


class _SignalReceiver:
    """Keeps stop signals away from the main thread's system calls while it works.

    A signal delivered to the main thread interrupts the system call it is in, and
    libldap reports an interrupted call as "Can't contact LDAP server": a worker
    told to stop gracefully would fail the directory it was syncing. So the main
    thread blocks the stop signals and this idle thread receives them instead;
    Python still runs the handler in the main thread, between two bytecodes, so
    the stop is as prompt as before, without breaking a call in flight.
    """

    def __init__(self) -> None:
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._done.wait, daemon=True,
                                        name="stop-signal-receiver")

    def __enter__(self) -> _SignalReceiver:
        self._thread.start()  # before blocking: a thread inherits its creator's signal mask
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        return self

    def __exit__(self, *exc_info: object) -> None:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        self._done.set()
        self._thread.join()
