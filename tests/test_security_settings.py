"""Finding 5, the deployment: private files, HTTPS cookies and HSTS, security headers, hosts.

Settings are read once at start-up from the environment, so each case runs a fresh
Python process with its own environment, as the server would.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from profilesync.hosts import LOCAL_HOSTS, hosts_for_bind, parse_allowed_hosts

REQUEST = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/login/", HTTP_HOST={host!r}, **{headers!r})
print(json.dumps({{
    "status": response.status_code,
    "headers": dict(response.headers),
    "cookies": {{name: dict(morsel) for name, morsel in response.cookies.items()}},
    "allowed_hosts": settings.ALLOWED_HOSTS,
}}))
"""


def clean_env(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFILESYNC_")}
    env.update({"DJANGO_SETTINGS_MODULE": "profilesync.settings", "PYTHONUNBUFFERED": "1",
                "PROFILESYNC_DATA_DIR": str(tmp_path / "data")})
    env.update(settings)
    return env


def request_in_process(tmp_path: Path, host: str = "localhost", headers: dict | None = None,
                       **settings: str) -> dict:
    done = subprocess.run([sys.executable, "-c", REQUEST.format(host=host, headers=headers or {})],
                          env=clean_env(tmp_path, **settings), capture_output=True, text=True,
                          timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_data_dir_and_database_are_private(tmp_path):
    """`profilesync init` on a fresh machine (umask 022) leaves a data dir only its owner can
    enter and a database only its owner can read: sessions, token digests, hashes."""
    program = str(Path(sys.executable).with_name("profilesync"))
    env = clean_env(tmp_path)

    done = subprocess.run(["sh", "-c", f"umask 022 && exec {program} init"], env=env,
                          capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    database = data / "profilesync.sqlite3"
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    for companion in data.glob("profilesync.sqlite3-*"):
        assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0, companion


def test_an_existing_world_readable_install_is_made_private(tmp_path):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    database = data / "profilesync.sqlite3"
    database.touch(mode=0o644)
    data.chmod(0o755)
    database.chmod(0o644)

    request_in_process(tmp_path)

    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE(database.stat().st_mode) == 0o600


def test_plain_http_by_default_with_the_headers_that_always_apply(tmp_path):
    answer = request_in_process(tmp_path)
    headers = answer["headers"]

    assert answer["status"] == 200
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers
    assert not answer["cookies"]["csrftoken"]["secure"]


def test_behind_an_https_proxy_cookies_are_secure_and_hsts_is_sent(tmp_path):
    https = {"PROFILESYNC_HTTPS": "1", "PROFILESYNC_PROXY_SSL_HEADER": "X-Forwarded-Proto"}

    answer = request_in_process(tmp_path, headers={"HTTP_X_FORWARDED_PROTO": "https"}, **https)
    plain = request_in_process(tmp_path, **https)

    assert answer["cookies"]["csrftoken"]["secure"] is True
    assert answer["headers"]["Strict-Transport-Security"] == "max-age=31536000"
    # Without the proxy's header the request is not HTTPS: no HSTS over plain HTTP.
    assert "Strict-Transport-Security" not in plain["headers"]


def test_a_forged_host_is_refused(tmp_path):
    forged = request_in_process(tmp_path, host="evil.example")
    configured = request_in_process(tmp_path, host="people.example.org",
                                    PROFILESYNC_ALLOWED_HOSTS="people.example.org")

    assert forged["status"] == 400
    assert forged["allowed_hosts"] == list(LOCAL_HOSTS)
    assert configured["status"] == 200


@pytest.mark.django_db
def test_a_forged_host_never_reaches_the_api_urls(client, django_user_model):
    """The pen-test's case: Host: evil.example ended up in the API's absolute URLs."""
    with override_settings(ALLOWED_HOSTS=parse_allowed_hosts(None)):
        response = client.get("/api/v1/people", HTTP_HOST="evil.example")

    assert response.status_code == 400
    assert b"evil.example" not in response.content


def test_the_demo_answers_to_the_names_of_its_bind():
    assert hosts_for_bind("127.0.0.1:8000").split(",") == list(LOCAL_HOSTS)
    assert "10.1.2.3" in hosts_for_bind("10.1.2.3:8000").split(",")
    assert "[2001:db8::5]" in hosts_for_bind("[2001:db8::5]:8000").split(",")
    wildcard = hosts_for_bind("0.0.0.0:8000").split(",")
    assert "*" not in wildcard and len(wildcard) > len(LOCAL_HOSTS)
