"""One directory's listener: a thread in a worker, holding the directory's live lease.

It connects, picks the method the server allows (:func:`choose_method`), and
applies what arrives through :mod:`.apply`:

* ``syncrepl``: OpenLDAP's refreshAndPersist from the stored cookie; the
  refresh phase catches up on what happened while nobody listened, then each
  change is pushed. When the server cannot resume from the cookie (a restart
  emptied its session log, or it overflowed) it lists every entry instead
  (the present phase): the listener catches up from that list and says so;
  when it refuses the cookie outright, an incremental run catches up first.
* ``usn-poll`` (Active Directory) and ``poll`` (anything else): every
  ``poll_seconds`` an incremental run of the directory, which finds changes
  by uSNChanged or modification time and deletions as a run does. On AD the
  run is skipped while ``highestCommittedUSN`` has not moved.

A dropped connection or a restarted server: state ``reconnecting``, then
resume from the cookie or USN, with a growing pause. The deactivation guard
stopping a batch: state ``off`` with the reason; nothing is applied, the
cookie stays, and the listener waits for a forced run (which moves the
cookie or watermark) or for live to be switched off and on.

Every commit checks the live lease's generation (fencing): a listener whose
worker stalled past its lease and was taken over rolls back and stops.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import Connection, connected
from profilesync.ldapclient.errors import DirectoryError
from profilesync.ldapclient.notification import NotificationRefused, NotificationWatch
from profilesync.ldapclient.persist import CookieRefused, PersistentSearch
from profilesync.ldapclient.rootdse import read_root_dse
from profilesync.ldapclient.search import count_matches
from profilesync.ldapclient.syncrepl import SyncreplUnavailable
from profilesync.ldapclient.usn import read_usn
from profilesync.scheduling.exclusive import SyncAlreadyRunning, run_sync_exclusively
from profilesync.scheduling.lease import Heartbeat, HeldLease, check_token, release
from profilesync.sync.errors import DeactivationGuardTripped
from profilesync.sync.fence import RunSuperseded
from profilesync.sync.fieldmap import build_attribute_map
from profilesync.sync.models import DirectorySyncState, SyncMode
from profilesync.sync.passes import incremental_filter

from . import methods
from .apply import TRIGGER, Changes, apply_changes, wait_for_scheduled_run
from .models import LiveListener, LiveState

log = logging.getLogger(__name__)

MAX_BACKOFF = 30.0


def lease_name(directory_pk: int) -> str:
    return f"live:{directory_pk}"


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.PROFILESYNC_LIVE_LEASE_SECONDS)


class ListenerStopped(Exception):
    """Asked to stop (worker stopping, live switched off, lease lost)."""


class Listener(threading.Thread):
    def __init__(self, directory_pk: int, lease: HeldLease):
        super().__init__(daemon=True, name=f"live-{directory_pk}")
        self.directory_pk = directory_pk
        self.lease = lease
        self._halt = threading.Event()
        self._heartbeat = Heartbeat(lease, duration=lease_duration(),
                                    every=settings.PROFILESYNC_LIVE_LEASE_RENEW_SECONDS)
        self._backoff = 1.0
        self._last_check = 0.0
        self._no_push = ""  # why the server refused refreshAndPersist, once it has
        self._no_notification = ""  # why the DC refused change notification, once it has

    # -- control ----------------------------------------------------------

    def stop(self) -> None:
        self._halt.set()

    @property
    def stopping(self) -> bool:
        return self._halt.is_set() or self._heartbeat.lost

    def _check_fence(self) -> None:
        if not check_token(self.lease, duration=lease_duration()):
            raise RunSuperseded(f"{self.lease.holder} lost the live lease {self.lease.name}",
                                token=self.lease.generation, holder="", generation=-1)

    # -- the thread -------------------------------------------------------

    def run(self) -> None:
        self._heartbeat.start()
        try:
            while not self.stopping:
                try:
                    if not self._once():
                        break
                except ListenerStopped:
                    break
                except RunSuperseded:
                    log.error("live listener lost its lease directory=%s", self.directory_pk)
                    break
                except DeactivationGuardTripped as exc:
                    self._set(LiveState.OFF, message=f"stopped by the deactivation guard: {exc}")
                    self._wait_for_release()
                except (DirectoryError, DatabaseError) as exc:
                    self._set(LiveState.RECONNECTING, message=f"{exc}; retrying in "
                                                              f"{self._backoff:g} s")
                    log.warning("live listener reconnecting directory=%s error=%s",
                                self.directory_pk, exc)
                    self._halt.wait(self._backoff)
                    self._backoff = min(MAX_BACKOFF, self._backoff * 2)
                except Exception:  # never let one directory's surprise kill the thread silently
                    log.exception("live listener failed directory=%s", self.directory_pk)
                    self._set(LiveState.RECONNECTING, message="unexpected error; see the log")
                    self._halt.wait(self._backoff)
                    self._backoff = min(MAX_BACKOFF, self._backoff * 2)
        finally:
            self._heartbeat.stop()
            self._finish()
            connections.close_all()

    def _finish(self) -> None:
        try:
            if not self._heartbeat.lost:
                LiveListener.objects.filter(directory_id=self.directory_pk,
                                            holder=self.lease.holder).exclude(
                    state=LiveState.OFF).update(state=LiveState.OFF, since=timezone.now(),
                                                message="the worker holding it stopped")
                release(self.lease)
        except DatabaseError as exc:
            log.error("could not release the live lease directory=%s error=%s",
                      self.directory_pk, exc)

    def _once(self) -> bool:
        """Connect and listen until something goes wrong; False when live is off here."""
        directory = Directory.objects.get(pk=self.directory_pk)
        row = LiveListener.for_directory(directory)
        with connected(directory.connection_settings()) as conn:
            root_dse = read_root_dse(conn)
            method = methods.choose(directory, root_dse)
            if method == methods.PERSIST and self._no_push:
                method = methods.POLL
            if not methods.enabled(row, method, root_dse):
                why = f" ({self._no_push})" if self._no_push else ""
                LiveListener.objects.filter(pk=row.pk).update(
                    state=LiveState.OFF, since=timezone.now(), method=method, holder="",
                    message=methods.off_reason(row, method) + why)
                return False
            if method == methods.PERSIST:
                try:
                    self._persist(conn, directory)
                except SyncreplUnavailable as exc:
                    # OpenLDAP lists the sync control even without syncprov: only asking tells.
                    self._no_push = str(exc)
            else:
                self._poll(conn, directory, root_dse, method)
        return True

    # -- OpenLDAP: refreshAndPersist -------------------------------------

    def _persist(self, conn: Connection, directory: Directory) -> None:
        cookie = _stored_cookie(directory)
        note = ("" if cookie is not None else
                "no syncrepl cookie was stored yet: the listener read every entry once, as a "
                "full sync does, to start from")
        self._set(LiveState.RECONNECTING, method=methods.PERSIST,
                  message=note or "catching up from the stored cookie")
        attribute_map = build_attribute_map(directory)
        try:
            search = PersistentSearch(conn, directory.search_base,
                                      directory.effective_user_filter,
                                      attribute_map.requested_attributes, cookie)
            self._listen(search, directory, note)
        except CookieRefused as exc:
            DirectorySyncState.objects.filter(directory=directory).update(syncrepl_cookie=None)
            self._catch_up(directory, str(exc))
            raise

    def _listen(self, search: PersistentSearch, directory: Directory, note: str) -> None:
        try:
            while True:
                self._check_wanted()
                batch = search.poll(0.5)
                if not batch:
                    continue
                message = note
                if batch.present is not None and search.started_with_cookie:
                    message = ("the directory could not resume from the stored cookie (its "
                               "session log no longer reaches it, e.g. after a restart or "
                               "more changes than it keeps): it listed every entry instead, "
                               "and the listener caught up from that list")
                changes = Changes(list(batch.entries.values()), batch.deleted, batch.present,
                                  batch.cookie, note=message if batch.refresh_done else "")
                self._apply(directory, changes)
                if batch.refresh_done:
                    self._backoff = 1.0
                    self._set(LiveState.CONNECTED, method=methods.PERSIST,
                              message=message or "resumed from the stored cookie")
        finally:
            search.abandon()

    # -- everything else: a poll ------------------------------------------

    def _poll(self, conn: Connection, directory: Directory, root_dse, method: str) -> None:
        row = LiveListener.for_directory(directory)
        watch = None
        if not settings.PROFILESYNC_LIVE_AD_NOTIFICATION:
            self._no_notification = "change notification off: PROFILESYNC_LIVE_AD_NOTIFICATION=off"
        if method == methods.USN_POLL and methods.offers_notification(root_dse) \
                and not self._no_notification:
            try:
                watch = NotificationWatch(conn, directory.search_base)
            except NotificationRefused as exc:
                self._no_notification = str(exc)
        if watch is not None:
            self._set(LiveState.CONNECTED, method=methods.NOTIFICATION, message=(
                f"woken by the DC's change notification; uSNChanged also polled every "
                f"{row.poll_seconds:g} s, for deletions"))
        else:
            why = f" ({self._no_notification})" if self._no_notification else ""
            self._set(LiveState.POLLING, method=method,
                      message=methods.poll_reason(directory, method, row.poll_seconds) + why)
        self._backoff = 1.0
        try:
            while True:
                self._check_wanted()
                if self._poll_finds_work(conn, directory, method):
                    self._run_incremental(directory, "")
                if watch is None:
                    self._halt.wait(row.poll_seconds)
                else:
                    try:
                        watch.wait(row.poll_seconds)
                    except NotificationRefused as exc:
                        self._no_notification = str(exc)
                        return  # reconnect and poll
                row.refresh_from_db(fields=["poll_seconds"])
        finally:
            if watch is not None:
                watch.abandon()

    def _poll_finds_work(self, conn: Connection, directory: Directory, method: str) -> bool:
        """Whether a run is worth it: the USN moved (AD), or an entry changed since the
        last run began (elsewhere; deletions there wait for a run that has changes)."""
        state = DirectorySyncState.for_directory(directory)
        if method != methods.USN_POLL:
            if state.watermark is None:
                return True
            return count_matches(conn, directory.search_base,
                                 incremental_filter(directory, state.watermark)) > 0
        reading = read_usn(conn, read_root_dse(conn))
        return (reading is None or state.usn_watermark is None
                or reading.highest_committed_usn > state.usn_watermark)

    # -- shared -------------------------------------------------------------

    def _apply(self, directory: Directory, changes: Changes) -> None:
        row = LiveListener.objects.filter(directory=directory).first()
        before = (row.state, row.message) if row is not None else None
        waited: list[str] = []

        def say_waiting(message: str) -> None:
            waited.append(message)
            self._set(row.state if row is not None else LiveState.CONNECTED, message=message)

        wait_for_scheduled_run(lambda: self.stopping, waiting=say_waiting)
        if waited and before is not None:
            self._set(before[0], message=before[1])
        if self.stopping:
            raise ListenerStopped()
        applied = apply_changes(directory, changes, fence_check=self._check_fence)
        counts = applied.counts
        done = counts.created + counts.updated + counts.deactivated
        if done:
            LiveListener.objects.filter(directory=directory).update(
                last_change_at=timezone.now(), changes_applied=_plus(done))

    def _catch_up(self, directory: Directory, why: str) -> str:
        """An incremental run before listening; returns the sentence that says so."""
        note = f"{why}: ran an incremental sync first"
        self._set(LiveState.RECONNECTING, message=note)
        self._run_incremental(directory, note)
        return note

    def _run_incremental(self, directory: Directory, note: str) -> None:
        while True:
            wait_for_scheduled_run(lambda: self.stopping)
            if self.stopping:
                raise ListenerStopped()
            try:
                report = run_sync_exclusively([directory], trigger=TRIGGER,
                                              mode=SyncMode.INCREMENTAL,
                                              lease_holder=f"{self.lease.holder} (live)")
                break
            except SyncAlreadyRunning:
                continue
        result = report.results[0] if report.results else None
        if result is None:
            return
        if result.status != "succeeded":
            message = result.errors[0]["message"] if result.errors else "the run failed"
            if result.would_deactivate:
                raise _GuardStop(message)
            raise _RunFailed(message)
        done = result.created + result.updated + result.deactivated
        if done:
            LiveListener.objects.filter(directory=directory).update(
                last_change_at=timezone.now(), changes_applied=_plus(done))

    def _check_wanted(self) -> None:
        """Stop when asked; every 2 s also re-read whether live is still on here."""
        if self.stopping:
            raise ListenerStopped()
        now = timezone.now().timestamp()
        if now - self._last_check < 2.0:
            return
        self._last_check = now
        row = LiveListener.objects.filter(directory_id=self.directory_pk).first()
        if row is not None and row.live is False:
            LiveListener.objects.filter(pk=row.pk).update(
                state=LiveState.OFF, since=timezone.now(), holder="",
                message="switched off by an administrator")
            raise ListenerStopped()

    def _wait_for_release(self) -> None:
        """After the guard stopped a batch: wait until a forced run moved the cookie or USN."""
        before = _progress_marker(self.directory_pk)
        while not self.stopping:
            self._halt.wait(2.0)
            try:
                self._check_wanted()
            except ListenerStopped:
                self._halt.set()
                return
            if _progress_marker(self.directory_pk) != before:
                return

    def _set(self, state: str, *, method: str | None = None, message: str = "") -> None:
        row = LiveListener.objects.filter(directory_id=self.directory_pk).first()
        changes: dict = {"message": message[:2000], "holder": self.lease.holder}
        if row is None or row.state != state:
            changes.update(state=state, since=timezone.now())
        if method is not None:
            changes["method"] = method
        LiveListener.objects.filter(directory_id=self.directory_pk).update(**changes)


class _RunFailed(DirectoryError):
    """The catch-up or poll run failed; the listener retries after a pause."""


class _GuardStop(DeactivationGuardTripped):
    """A poll's run was stopped by the guard: carries that run's own sentence."""

    def __init__(self, message: str):
        DirectoryError.__init__(self, message)
        self.would_deactivate = []


def _plus(n: int):
    from django.db.models import F

    return F("changes_applied") + n


def _stored_cookie(directory: Directory) -> bytes | None:
    state = DirectorySyncState.for_directory(directory)
    return bytes(state.syncrepl_cookie) if state.syncrepl_cookie else None


def _progress_marker(directory_pk: int) -> tuple:
    state = DirectorySyncState.objects.filter(directory_id=directory_pk).first()
    if state is None:
        return ()
    return (bytes(state.syncrepl_cookie or b""), state.usn_watermark, state.watermark)
