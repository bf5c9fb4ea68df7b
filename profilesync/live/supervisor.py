"""Starts the listeners of a worker: one per directory with live on, across all workers.

Every ``PROFILESYNC_LIVE_CHECK_SECONDS`` the supervisor thread of each
``profilesync worker`` looks at the syncable directories; for each one whose
live setting is not off and that has no listener in this process, it tries
to take the directory's live lease. One worker wins; the others see the lease
held and try again next time, so when the winner dies its lease expires and
another worker takes over within a lease period, resuming from the stored
cookie or USN.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import DatabaseError, connections

from profilesync.directories.models import Directory
from profilesync.scheduling.lease import LeaseHeld, acquire
from profilesync.sync.models import DirectorySyncState

from .listener import Listener, lease_duration, lease_name
from .methods import NOTIFICATION, OFF_BY_DEFAULT, PERSIST, USN_POLL
from .models import LiveListener, LiveState

log = logging.getLogger(__name__)


def wanted(row: LiveListener) -> bool:
    """Worth a listener: on, or by default where the method (once known) pushes or notifies."""
    if row.live is not None:
        return row.live
    if row.state == LiveState.OFF and row.message.startswith(OFF_BY_DEFAULT):
        return False  # a listener found the server offers neither push nor notification
    return row.method in ("", PERSIST, USN_POLL, NOTIFICATION)


def _imported(directory: Directory) -> bool:
    """Live updates follow the first import, which a run makes and reports in full."""
    return DirectorySyncState.objects.filter(directory=directory,
                                             last_success_at__isnull=False).exists()


class LiveSupervisor(threading.Thread):
    def __init__(self, worker_id: str):
        super().__init__(daemon=True, name=f"live-supervisor-{worker_id}")
        self.holder = f"worker {worker_id}"
        self.listeners: dict[int, Listener] = {}
        self._halt = threading.Event()

    def run(self) -> None:
        try:
            while not self._halt.is_set():
                try:
                    self.tick()
                except DatabaseError as exc:
                    log.warning("live supervisor could not look at the directories error=%s", exc)
                self._halt.wait(settings.PROFILESYNC_LIVE_CHECK_SECONDS)
        finally:
            for listener in self.listeners.values():
                listener.stop()
            for listener in self.listeners.values():
                listener.join(timeout=10)
            connections.close_all()

    def stop(self, wait: bool = True) -> None:
        self._halt.set()
        if wait and self.is_alive():
            self.join(timeout=15)

    def tick(self) -> None:
        for directory in Directory.objects.all():
            if directory.sync_refusal() is not None:
                continue
            current = self.listeners.get(directory.pk)
            if current is not None and current.is_alive():
                continue
            if not wanted(LiveListener.for_directory(directory)) or not _imported(directory):
                continue
            try:
                lease = acquire(lease_name(directory.pk), self.holder, duration=lease_duration())
            except LeaseHeld:
                continue
            if lease.previous.held:
                log.warning("live lease taken over directory=%s from=%s", directory.name,
                            lease.previous.holder)
            listener = Listener(directory.pk, lease)
            self.listeners[directory.pk] = listener
            listener.start()
