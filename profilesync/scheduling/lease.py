"""A lease row: the right to do one thing at a time across every worker and machine.

Names kept in this module: a ``LeaseState`` is the row as read; a ``HeldLease`` is
what the holder keeps (name, holder, generation) to renew and release it.

Every change is one conditional UPDATE, so it works the same on SQLite and
PostgreSQL and needs no lock held for the length of a run:

- acquire: ``WHERE generation = <as read> AND (holder = '' OR expires_at < now)``;
  the generation makes it a compare-and-swap, so the winner knows exactly whose
  (expired) lease it replaced, and only one of several racing acquirers wins;
- renew and release: ``WHERE generation = <mine> AND holder = <me>``; a holder
  that stalled past expiry and was taken over sees zero rows and knows it.

A holder that dies stops renewing; its lease expires and the next acquirer takes
it over. "Now" is the database's clock (``clock.database_now``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, OperationalError, connections
from django.db.models import Q
from django_tasks_db.utils import is_locked_database_exception

from .clock import database_now
from .models import SyncLease

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LeaseState:
    name: str
    holder: str  # "" when free
    generation: int
    run_id: int | None
    acquired_at: datetime | None
    renewed_at: datetime | None
    expires_at: datetime | None

    @property
    def held(self) -> bool:
        return bool(self.holder)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is None or self.expires_at < now


@dataclass(frozen=True)
class HeldLease:
    name: str
    holder: str
    generation: int
    previous: LeaseState  # the row as it was when acquired: whose lease this replaced


class LeaseHeld(Exception):
    """Someone else holds the lease and it has not expired."""

    def __init__(self, state: LeaseState):
        self.state = state
        super().__init__(f"lease {state.name!r} is held by {state.holder} until {state.expires_at}")


def read_lease(name: str) -> LeaseState:
    row, _ = SyncLease.objects.get_or_create(name=name)
    return LeaseState(name=row.name, holder=row.holder, generation=row.generation,
                      run_id=row.run_id, acquired_at=row.acquired_at, renewed_at=row.renewed_at,
                      expires_at=row.expires_at)


def acquire(name: str, holder: str, *, duration: timedelta) -> HeldLease:
    """Take the lease if it is free or expired; raise ``LeaseHeld`` otherwise."""
    if not holder:
        raise ValueError("a lease holder needs a name")
    # A second attempt only when the row changed between reading and updating it
    # (another acquirer won, or the holder renewed or released): read it again.
    for _ in range(3):
        current = read_lease(name)
        now = database_now()
        if current.held and not current.expired(now):
            raise LeaseHeld(current)
        try:
            taken = (SyncLease.objects
                     .filter(name=name, generation=current.generation)
                     .filter(Q(holder="") | Q(expires_at__lt=now))
                     .update(holder=holder, generation=current.generation + 1, run=None,
                             acquired_at=now, renewed_at=now, expires_at=now + duration))
        except OperationalError as exc:
            # SQLite: a writer has held the database past the busy timeout. With a
            # holder on record that is its run, whose renewals wait for the same lock.
            if current.held and is_locked_database_exception(exc):
                raise LeaseHeld(current) from exc
            raise
        if taken:
            log.info("lease acquired lease=%s holder=%s generation=%s replaced=%s",
                     name, holder, current.generation + 1, current.holder or "-")
            return HeldLease(name, holder, current.generation + 1, previous=current)
    raise LeaseHeld(read_lease(name))


def renew(lease: HeldLease, *, duration: timedelta, run_id: int | None = None) -> bool:
    """Push the expiry forward (and note the run it covers); False if the lease was lost."""
    now = database_now()
    changes: dict = {"renewed_at": now, "expires_at": now + duration}
    if run_id is not None:
        changes["run_id"] = run_id
    return bool(SyncLease.objects
                .filter(name=lease.name, generation=lease.generation, holder=lease.holder)
                .update(**changes))


def check_token(lease: HeldLease, *, duration: timedelta) -> bool:
    """The fencing check of a commit: True if ``lease`` (its generation) is still the holder's.

    Call it inside the transaction that is about to commit. It is a renewal, so
    it also locks the lease row (SQLite: takes the write lock) until that commit:
    an acquirer racing the commit waits for it and then finds the lease renewed.
    """
    return renew(lease, duration=duration)


def release(lease: HeldLease) -> bool:
    """Give the lease back; False if it had already been taken over."""
    released = (SyncLease.objects
                .filter(name=lease.name, generation=lease.generation, holder=lease.holder)
                .update(holder="", run=None, expires_at=None, renewed_at=database_now()))
    log.info("lease released lease=%s holder=%s generation=%s", lease.name, lease.holder,
             lease.generation)
    return bool(released)


class Heartbeat:
    """Renews a held lease from a thread of its own while the holder works.

    A thread, not renewals between pages, because the work (the sync runner) is
    called as a whole; a thread keeps the lease alive through a long page or a slow
    directory as long as the process lives, and stops renewing when it dies. The
    thread uses its own database connection, so on PostgreSQL renewals are
    committed at once even while the runner is inside a long transaction. On
    SQLite a writing transaction holds the only write lock, so a renewal waits for
    the runner's directory transaction to end: there the lease must outlast the
    longest directory import (docs/configuration.md).
    """

    def __init__(self, lease: HeldLease, *, duration: timedelta, every: float):
        self.lease = lease
        self.duration = duration
        self.every = every
        self.lost = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True,
                                        name=f"lease-heartbeat-{lease.name}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.is_set():
                self._wake.wait(self.every)
                self._wake.clear()
                if self._stop.is_set():
                    break
                self._renew_once()
                if self.lost:
                    break
        finally:
            connections.close_all()  # this thread's connections only

    def _renew_once(self) -> None:
        try:
            kept = renew(self.lease, duration=self.duration)
        except DatabaseError as exc:
            # SQLite may be locked by a long write, PostgreSQL may be restarting: the
            # lease has minutes left, so try again at the next beat.
            log.warning("lease renewal failed lease=%s holder=%s error=%s",
                        self.lease.name, self.lease.holder, exc)
            return
        if not kept:
            self.lost = True
            log.error("lease lost lease=%s holder=%s: it expired and was taken over; this "
                      "run's next commit fails its fencing check and rolls back",
                      self.lease.name, self.lease.holder)
