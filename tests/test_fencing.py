"""Fencing: a sync that stalled past its lease and was taken over must not commit.

Real ``profilesync sync`` processes against the session slapd, on the test's
database (SQLite or PostgreSQL, whichever the suite runs on). The first process
is held mid-run by a relay that keeps the directory's answers back, then stopped
with SIGSTOP at a moment when it is not writing to the database (a paused VM
stops a process at any instruction, but a test that stopped it inside a write
would only be testing the database's own locking). Its lease expires, a second
process takes over and syncs, and then SIGCONT lets the first one go on: it reads
the directory again and reaches its commit, where its fencing token (the lease
generation) no longer matches. Tests wait for states with deadlines; none asserts
a duration.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from profilesync.profiles.models import Profile
from profilesync.scheduling.clock import database_now
from profilesync.scheduling.exclusive import SYNC_LEASE
from profilesync.scheduling.lease import read_lease
from profilesync.scheduling.models import InterruptedRun
from profilesync.sync.models import DirectoryRunResult, DirectorySyncState, RunStatus, SyncRun

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_ENV = {"PROFILESYNC_SYNC_LEASE_SECONDS": "1", "PROFILESYNC_SYNC_LEASE_RENEW_SECONDS": "0.2"}


class SyncProcess:
    """One ``profilesync sync --json`` process, its output kept in a file."""

    def __init__(self, name: str, tmp_path: Path, env: dict[str, str]):
        self.out_path = tmp_path / f"{name}.out"
        self.err_path = tmp_path / f"{name}.err"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "profilesync.cli", "sync", "--json"],
                env={**env, **LEASE_ENV}, stdout=out, stderr=err, stdin=subprocess.DEVNULL)

    def finish(self) -> tuple[int, dict]:
        try:
            code = self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"sync process did not finish:\n{self.err_path.read_text()}")
        out = self.out_path.read_text()
        assert out, f"no report printed (exit {code}):\n{self.err_path.read_text()}"
        return code, json.loads(out)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGCONT)
            self.process.kill()
            self.process.wait()


def database_is_quiet() -> bool:
    """True when no other connection is inside a write (so a stopped process holds no lock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = "
                           "current_database() AND pid <> pg_backend_pid() AND state <> 'idle'")
            return cursor.fetchone()[0] == 0
    probe = sqlite3.connect(connection.settings_dict["NAME"], timeout=0.2,
                            isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def stop_between_writes(pid: int) -> None:
    """SIGSTOP ``pid`` at a moment it holds no database lock (its heartbeat writes often)."""
    for _ in range(50):
        os.kill(pid, signal.SIGSTOP)
        if database_is_quiet():
            return
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.01)
    pytest.fail("the sync process was inside a database write every time it was stopped")


def test_a_stalled_run_taken_over_rolls_back_at_its_commit_and_is_recorded_superseded(
        subtree, make_directory, stalling_relay, wait_for, profilesync_env, tmp_path):
    """SIGSTOP a sync past its lease, let another process take over, SIGCONT the first:
    one commit only (the successor's), and the report tells both runs as they happened."""
    first_dn, _ = subtree.add_people(2)
    directory = make_directory(subtree, urls=[stalling_relay.uri], operation_timeout=120.0)
    stalling_relay.hold()

    stalled = SyncProcess("stalled", tmp_path, profilesync_env)
    try:
        stalled_run_id = wait_for(
            lambda: DirectoryRunResult.objects.filter(run__trigger="cli").values_list(
                "run_id", flat=True).first(),
            what="the first process's run to reach its directory")
        first_token = read_lease(SYNC_LEASE).generation
        assert read_lease(SYNC_LEASE).holder.endswith(f"pid {stalled.process.pid}")
        stop_between_writes(stalled.process.pid)
        wait_for(lambda: read_lease(SYNC_LEASE).expired(database_now()),
                 what="the stopped process's lease to expire")
        stalling_relay.release()

        successor = SyncProcess("successor", tmp_path, profilesync_env)
        successor_code, successor_report = successor.finish()
        assert successor_code == 0, successor.err_path.read_text()
        # If the stalled run committed what it reads once it goes on, this would show.
        subtree.modify(first_dn, title="Changed after the takeover")
        state_before_resume = DirectorySyncState.objects.get(directory=directory)
        resumed_at = timezone.now()
        os.kill(stalled.process.pid, signal.SIGCONT)
        stalled_code, stalled_report = stalled.finish()
    finally:
        stalled.kill()

    # One commit: the successor's. The resumed run read the directory but rolled back.
    assert stalled_code == 1 and stalled_report["ok"] is False
    assert successor_report["ok"] is True
    assert successor_report["directories"]["corp"]["created"] == 2
    profile = Profile.objects.get(directory=directory, username="user000")
    assert profile.values["title"] == "Engineer"
    state = DirectorySyncState.objects.get(directory=directory)
    assert state.last_success_at == state_before_resume.last_success_at < resumed_at
    assert state.watermark == state_before_resume.watermark

    # Both runs, truthfully: the stalled one failed (the takeover said so, and that stays),
    # then came back, lost its fencing check and rolled back.
    stalled_run = SyncRun.objects.get(pk=stalled_run_id)
    assert stalled_run.status == RunStatus.FAILED
    interruption = InterruptedRun.objects.get(run=stalled_run)
    assert interruption.superseded_at is not None and interruption.superseded_at >= resumed_at
    assert "the worker stopped during this run" in interruption.message
    assert f"pid {stalled.process.pid}" in interruption.message
    assert f"fencing token {first_token}" in interruption.message
    assert "superseded" in interruption.message
    (stalled_result,) = stalled_run.results.all()
    assert stalled_result.status == RunStatus.FAILED
    assert (stalled_result.created, stalled_result.updated) == (0, 0)
    successor_run = SyncRun.objects.get(pk=successor_report["run"])
    assert successor_run.status == RunStatus.SUCCEEDED
    assert read_lease(SYNC_LEASE).generation == first_token + 1
    assert not read_lease(SYNC_LEASE).held

    listed = subprocess.run([sys.executable, "-m", "profilesync.cli", "sync", "report", "--json"],
                            env=profilesync_env, capture_output=True, text=True, timeout=120)
    runs = {run["run"]: run for run in json.loads(listed.stdout)}
    assert runs[stalled_run_id]["status"] == "failed"
    assert "superseded" in runs[stalled_run_id]["interrupted"]
    assert runs[successor_run.pk]["status"] == "succeeded"
    assert runs[successor_run.pk]["interrupted"] == ""


def test_a_run_stalled_between_directories_keeps_what_it_committed_and_rolls_back_the_rest(
        subtree, make_subtree, make_directory, stalling_relay, wait_for, profilesync_env,
        tmp_path):
    """The first directory was committed under the lease before the stall and stays; the
    directory the run stalled in is rolled back when it resumes; the report says which."""
    subtree.add_people(1)
    other = make_subtree()
    (other_dn,) = other.add_people(1, prefix="branch")
    committed = make_directory(subtree, name="corp")
    stalled_in = make_directory(other, name="branch", urls=[stalling_relay.uri],
                                operation_timeout=120.0)
    stalling_relay.hold()

    stalled = SyncProcess("stalled", tmp_path, profilesync_env)
    try:
        wait_for(lambda: DirectoryRunResult.objects.filter(directory=stalled_in).exists(),
                 what="the first process to reach the second directory")
        stop_between_writes(stalled.process.pid)
        wait_for(lambda: read_lease(SYNC_LEASE).expired(database_now()),
                 what="the stopped process's lease to expire")
        stalling_relay.release()
        successor_code, successor_report = SyncProcess("successor", tmp_path,
                                                       profilesync_env).finish()
        other.modify(other_dn, title="Changed after the takeover")
        os.kill(stalled.process.pid, signal.SIGCONT)
        stalled_code, stalled_report = stalled.finish()
    finally:
        stalled.kill()

    assert successor_code == 0 and successor_report["directories"]["branch"]["created"] == 1
    assert stalled_code == 1
    assert stalled_report["directories"]["corp"]["status"] == "succeeded"
    assert stalled_report["directories"]["corp"]["created"] == 1
    assert stalled_report["directories"]["branch"]["status"] == "failed"
    assert stalled_report["directories"]["branch"]["created"] == 0
    assert Profile.objects.get(directory=stalled_in).values["title"] == "Engineer"
    assert Profile.objects.filter(directory=committed).count() == 1
    run = SyncRun.objects.get(pk=stalled_report["run"])
    assert run.status == RunStatus.FAILED
    assert "superseded" in run.interruption.message


def test_a_stalled_worker_taken_over_fails_its_task_with_the_runs_story(
        subtree, make_directory, stalling_relay, wait_for, profilesync_env, tmp_path):
    """The same with a `profilesync worker` running "run now": after SIGCONT its task does
    not turn "successful" over the takeover's "failed"; it fails with the superseded story."""
    (first_dn, _) = subtree.add_people(2)
    directory = make_directory(subtree, urls=[stalling_relay.uri], operation_timeout=120.0)
    stalling_relay.hold()
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            [sys.executable, "-m", "profilesync.cli", "worker", "--worker-id", "stalls",
             "--interval", "0.1", "--schedule-interval", "0.2"],
            env={**profilesync_env, **LEASE_ENV, "PROFILESYNC_LOG_LEVEL": "INFO"},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        wait_for(lambda: "worker stalls: tasks from queue" in log_path.read_text(),
                 what="the worker to start")
        out = StringIO()
        call_command("sync", "--background", "--json", stdout=out)
        task_id = json.loads(out.getvalue())["task"]
        wait_for(lambda: DirectoryRunResult.objects.filter(directory=directory).exists(),
                 what="the worker's run to reach the directory")
        stop_between_writes(worker.pid)
        wait_for(lambda: read_lease(SYNC_LEASE).expired(database_now()),
                 what="the stopped worker's lease to expire")
        stalling_relay.release()
        successor_code, _ = SyncProcess("successor", tmp_path, profilesync_env).finish()
        subtree.modify(first_dn, title="Changed after the takeover")
        os.kill(worker.pid, signal.SIGCONT)
        task = wait_for(lambda: DBTaskResult.objects.filter(
                            pk=task_id, exception_class_path__endswith="SyncSuperseded").first(),
                        what="the resumed worker's task to end")
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=60) == 0, log_path.read_text()
    finally:
        if worker.poll() is None:
            os.kill(worker.pid, signal.SIGCONT)
            worker.kill()
            worker.wait()

    assert successor_code == 0
    assert task.status == "FAILED"
    assert "the worker stopped during this run: worker stalls" in task.traceback
    assert "superseded" in task.traceback
    assert Profile.objects.get(directory=directory, username="user000").values["title"] == \
        "Engineer"
