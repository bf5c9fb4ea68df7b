"""/healthz, /readyz and ``profilesync check``: ready means the database (migrated), the cache
and, when scheduled sync is on, a live worker; each failure is named.

The database-down case runs against a private PostgreSQL cluster that the test
starts and stops itself (never the machine's shared server), served by a real
``profilesync serve``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import timedelta

import pytest
from django.test import Client, override_settings

from profilesync.monitoring.heartbeat import beat
from profilesync.monitoring.models import WorkerHeartbeat
from profilesync.scheduling.clock import database_now
from profilesync.testing.availability import unavailable
from profilesync.testing.monitoring_servers import PostgresUnavailable, PrivatePostgres, free_port


def get(client: Client, path: str = "/readyz", **extra):
    return client.get(path, **extra)


@pytest.mark.django_db
def test_healthz_answers_while_the_process_serves():
    response = Client().get("/healthz")
    assert (response.status_code, response.content) == (200, b"ok\n")


@pytest.mark.django_db
def test_readyz_needs_a_recent_worker_heartbeat_once_a_directory_is_synced(make_directory):
    """No directory: no worker needed. A syncable directory without a worker: 503 naming the
    worker. A heartbeat: ready. The heartbeat grows old: 503 again; a new one: ready."""
    client = Client(enforce_csrf_checks=True)
    nothing_to_sync = get(client)
    make_directory(None)
    no_worker = get(client)
    beat("node1:4242")
    alive = get(client)
    WorkerHeartbeat.objects.update(beat_at=database_now() - timedelta(minutes=10))
    stale = get(client)
    beat("node1:4242")
    back = get(client)

    assert nothing_to_sync.status_code == 200
    assert no_worker.status_code == 503 and "FAIL worker: no worker has ever reported" in no_worker.text
    assert alive.status_code == 200 and "ok   worker: node1:4242 reported" in alive.text
    assert stale.status_code == 503
    assert "FAIL worker: no worker heartbeat for 600 s (limit 120 s, last from node1:4242)" in stale.text
    assert back.status_code == 200


@pytest.mark.django_db
def test_readyz_tells_strangers_only_which_part_fails(make_directory):
    make_directory(None)
    client = Client(enforce_csrf_checks=True)
    text = get(client, REMOTE_ADDR="192.0.2.10")
    as_json = get(client, "/readyz?format=json", REMOTE_ADDR="192.0.2.10")
    inside = get(client, "/readyz?format=json")

    assert (text.status_code, text.text) == (503, "not ready: worker\n")
    assert as_json.json() == {"ready": False, "checks": [
        {"name": "database", "ok": True}, {"name": "cache", "ok": True}, {"name": "worker", "ok": False}]}
    assert inside.json()["checks"][0]["detail"].endswith("migrations applied")


@pytest.mark.django_db(transaction=True)
def test_check_command_exits_1_and_names_the_failing_part(cli, make_directory):
    ready_code, ready_out, _ = cli("check", "--json")
    make_directory(None)
    code, out, err = cli("check", "--json")

    assert ready_code == 0 and json.loads(ready_out)["ready"] is True
    assert code == 1
    result = json.loads(out)
    assert result["ready"] is False
    assert [c["name"] for c in result["checks"] if not c["ok"]] == ["worker"]
    assert "not ready: worker (no worker has ever reported" in err


@pytest.mark.django_db(transaction=True)
def test_check_names_a_monitoring_setting_that_cannot_be_used(cli):
    with override_settings(PROFILESYNC_METRICS_ALLOW="10.0.0.0/8,intranet"):
        code, out, err = cli("check")
    assert code == 1
    assert ("FAIL settings: monitoring.E001: PROFILESYNC_METRICS_ALLOW: 'intranet' is not an "
            "address or network") in out


@pytest.mark.django_db(transaction=True)
def test_a_running_worker_keeps_readyz_ready(make_directory, profilesync_env, wait_for):
    """A real `profilesync worker` beats; after it stops, its heartbeat ages and readiness fails."""
    make_directory(None)
    env = {**profilesync_env, "PROFILESYNC_WORKER_HEARTBEAT_SECONDS": "0.2"}
    worker = subprocess.Popen([sys.executable, "-m", "profilesync.cli", "worker", "--worker-id",
                               "test-worker", "-v", "0"], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: WorkerHeartbeat.objects.filter(worker_id="test-worker").exists(),
                 what="the worker's first heartbeat", timeout=60)
        ready = Client().get("/readyz")
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    WorkerHeartbeat.objects.update(beat_at=database_now() - timedelta(minutes=5))
    gone = Client().get("/readyz")

    assert ready.status_code == 200 and "test-worker reported" in ready.text
    assert gone.status_code == 503 and "last from test-worker" in gone.text


# -- the database stops and comes back: a private PostgreSQL and a real `profilesync serve` --

@pytest.fixture
def private_postgres():
    try:
        with PrivatePostgres() as server:
            yield server
    except PostgresUnavailable as exc:
        unavailable("a private PostgreSQL server", str(exc))


def _fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_readyz_turns_503_while_postgresql_is_stopped_and_back(private_postgres, tmp_path, wait_for):
    env = {**os.environ, "PROFILESYNC_DATABASE_URL": private_postgres.url,
           "PROFILESYNC_DATA_DIR": str(tmp_path / "data"), "PROFILESYNC_SECRET_KEY": "k" * 50,
           "PYTHONUNBUFFERED": "1"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)

    def profilesync(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "profilesync.cli", *argv], env=env,
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)

    before_init = profilesync("check")
    assert profilesync("init").returncode == 0
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "profilesync.cli", "serve", "--bind",
                               f"127.0.0.1:{port}", "--workers", "1"], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    readyz = f"http://127.0.0.1:{port}/readyz"
    try:
        wait_for(lambda: _port_answers(readyz), what="profilesync serve", timeout=120)
        up = _fetch(readyz)
        private_postgres.stop()
        down = _fetch(readyz)
        down_check = profilesync("check", "--json")
        live_while_down = _fetch(f"http://127.0.0.1:{port}/healthz")
        private_postgres.start()
        back = wait_for(lambda: (lambda answer: answer if answer[0] == 200 else None)(_fetch(readyz)),
                        what="/readyz ready again", timeout=60)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)

    assert before_init.returncode == 1 and "migrations not applied" in before_init.stderr
    assert up[0] == 200 and "ok   database: postgresql, migrations applied" in up[1]
    assert down[0] == 503 and "FAIL database: cannot reach the database" in down[1]
    assert down_check.returncode == 1
    assert [c["name"] for c in json.loads(down_check.stdout)["checks"] if not c["ok"]] == ["database"]
    assert live_while_down == (200, "ok\n")
    assert back[0] == 200


def _port_answers(url: str) -> bool:
    try:
        _fetch(url)
    except OSError:
        return False
    return True
