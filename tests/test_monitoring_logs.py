"""``PROFILESYNC_LOG_FORMAT=json``: one JSON object per line, with run, directory and event."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from profilesync.monitoring.json_logs import split_event


def test_key_value_pairs_become_fields_and_free_text_stays_whole():
    event, pairs = split_event("directory sync failed run=12 directory=corp "
                               "error=cannot read uid=ann,ou=people x=1")
    assert event == "directory sync failed"
    assert pairs == {"run": "12", "directory": "corp", "error": "cannot read uid=ann,ou=people x=1"}
    assert split_event("no pairs here") == ("no pairs here", {})


@pytest.mark.django_db(transaction=True)
def test_a_failed_sync_logs_json_lines_with_run_and_directory(make_directory, profilesync_env):
    make_directory(None, name="gone", urls=["ldap://127.0.0.1:1"])
    env = {**profilesync_env, "PROFILESYNC_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-m", "profilesync.cli", "sync", "--full"], env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    plain = subprocess.run([sys.executable, "-m", "profilesync.cli", "sync", "--full"],
                           env=profilesync_env, capture_output=True, text=True, timeout=300,
                           stdin=subprocess.DEVNULL)

    records = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    failed = [r for r in records if r["event"] == "directory sync failed"]
    assert done.returncode == 1
    assert len(failed) == 1
    (record,) = failed
    assert record["directory"] == "gone" and isinstance(record["run"], int)
    assert record["level"] == "WARNING" and record["logger"] == "profilesync.sync.runner"
    assert "127.0.0.1:1" in record["error"]
    assert "directory sync failed run=" in plain.stderr and not plain.stderr.lstrip().startswith("{")


@pytest.mark.django_db(transaction=True)
def test_the_worker_logs_only_json_lines(profilesync_env):
    """Task start and finish lines of the worker (django-tasks' own loggers) are JSON too."""
    from profilesync.scheduling.jobs import JOBS

    JOBS["alert_rules"].task.enqueue(trigger="manual")
    env = {**profilesync_env, "PROFILESYNC_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-m", "profilesync.cli", "worker", "--batch"], env=env,
                          capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)

    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 0
    assert lines, "the worker logged its task"
    records = [json.loads(line) for line in lines]
    assert any("evaluate_alert_rules" in record["message"] for record in records)
