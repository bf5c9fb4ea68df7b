"""Helpers for the live-update tests: a real ``profilesync worker`` subprocess and its listener.

Workers run on the test's database with short live leases (2 s, renewed every
0.2 s) and look for directories without a listener every 0.2 s, so a killed
worker is taken over quickly. Tests wait for states, never for times.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

FAST_LIVE = {
    "PROFILESYNC_LOG_LEVEL": "INFO",
    "PROFILESYNC_LIVE_LEASE_SECONDS": "2",
    "PROFILESYNC_LIVE_LEASE_RENEW_SECONDS": "0.2",
    "PROFILESYNC_LIVE_CHECK_SECONDS": "0.2",
    "PROFILESYNC_SYNC_LEASE_SECONDS": "5",
    "PROFILESYNC_SYNC_LEASE_RENEW_SECONDS": "0.5",
}


class WorkerProcess:
    """One ``profilesync worker`` subprocess, its output in a file for when a test fails."""

    def __init__(self, worker_id: str, tmp_path: Path, env: dict[str, str],
                 extra_env: dict[str, str] | None = None):
        self.worker_id = worker_id
        self.log_path = tmp_path / f"{worker_id}.log"
        env = {**env, **FAST_LIVE, **(extra_env or {})}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "profilesync.cli", "worker", "--worker-id", worker_id,
                 "--interval", "0.2", "--schedule-interval", "1"],
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
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"worker {self.worker_id} ignored SIGTERM:\n{self.output}") from None
