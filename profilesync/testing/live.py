"""Helpers for the live-update tests: a real ``profilesync worker`` subprocess and its listener,
and the slapd with people imported once that the OpenLDAP live and monitoring tests share.

Workers run on the test's database with short live leases (2 s, renewed every
0.2 s) and look for directories without a listener every 0.2 s, so a killed
worker is taken over quickly. Tests wait for states, never for times.
"""

from __future__ import annotations

import datetime as dt
import signal
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.utils import timezone

from .ldif import PEOPLE_OU, person_ldif
from .slapd import SlapdServer

FAST_LIVE = {
    "PROFILESYNC_LOG_LEVEL": "INFO",
    "PROFILESYNC_LIVE_LEASE_SECONDS": "2",
    "PROFILESYNC_LIVE_LEASE_RENEW_SECONDS": "0.2",
    "PROFILESYNC_LIVE_CHECK_SECONDS": "0.2",
    "PROFILESYNC_SYNC_LEASE_SECONDS": "5",
    "PROFILESYNC_SYNC_LEASE_RENEW_SECONDS": "0.5",
}


class WorkerProcess:
    """One ``profilesync worker`` subprocess, its output in a file for when a test fails.

    ``SETTINGS`` and the two intervals are what a test module tunes (a subclass, as the
    scheduling tests' shorter sync lease does); starting, reading and stopping stay here."""

    SETTINGS: dict[str, str] = FAST_LIVE
    INTERVAL = "0.2"
    SCHEDULE_INTERVAL = "1"

    def __init__(self, worker_id: str, tmp_path: Path, env: dict[str, str],
                 extra_env: dict[str, str] | None = None):
        self.worker_id = worker_id
        self.log_path = tmp_path / f"{worker_id}.log"
        env = {**env, **self.SETTINGS, **(extra_env or {})}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "profilesync.cli", "worker", "--worker-id", worker_id,
                 "--interval", self.INTERVAL, "--schedule-interval", self.SCHEDULE_INTERVAL],
                env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    @property
    def holder(self) -> str:
        return f"worker {self.worker_id}"

    @property
    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: the worker dies without releasing anything."""
        if self.alive():
            self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        """SIGTERM, as a service manager stops it; return its exit code."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        return self.exit_code()

    def exit_code(self) -> int:
        """Wait for the worker to exit by itself; return its exit code."""
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker {self.worker_id} ignored SIGTERM:\n{self.output}") from None


class Workers:
    """The workers one test starts, every one killed when it ends: a worker left running
    would go on writing into the next test's database."""

    def __init__(self, tmp_path: Path, env: dict[str, str]):
        self.tmp_path = tmp_path
        self.env = env
        self.started: list[WorkerProcess] = []

    def start(self, worker_id: str, extra_env: dict[str, str] | None = None) -> WorkerProcess:
        worker = WorkerProcess(worker_id, self.tmp_path, self.env, extra_env)
        self.started.append(worker)
        return worker

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc) -> None:
        for worker in self.started:
            worker.kill()


@contextmanager
def slapd_with_people(run_dir: Path, people: Iterable[str]) -> Iterator[SlapdServer]:
    """A private slapd (killable, with syncprov) holding ``people``, created an hour ago so
    they are older than any run a test makes."""
    server = SlapdServer(run_dir=run_dir)
    old = timezone.now() - dt.timedelta(hours=1)
    server.load(PEOPLE_OU + "".join(person_ldif(uid, old) for uid in people))
    with server:
        yield server


def imported_directory(slapd: SlapdServer, make_directory):
    """A directory on ``slapd``, its people imported once by a run (as after installation),
    so the supervisor wants a listener for it."""
    from profilesync.sync.runner import run_sync

    made = make_directory(None, urls=[slapd.ldap_uri], bind_dn=slapd.root_dn,
                          bind_password=slapd.root_pw, base_dn=slapd.suffix)
    run_sync([made])
    return made
