"""`profilesync demo --directory ad`: the demo on a private Samba Active Directory DC."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request

import pytest

from profilesync.testing.slapd import free_port


def test_demo_runs_on_active_directory_and_stops_its_dc(samba_dc, tmp_path, wait_for):
    """The demo starts a DC of its own, syncs its people over LDAPS, serves the pages, and
    stops the DC again on SIGTERM. (``samba_dc`` only ensures the machine can run a DC.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFILESYNC_")}
    env.update(PROFILESYNC_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "demo.log"
    port = free_port()
    with log_path.open("wb") as log:
        demo = subprocess.Popen(
            [sys.executable, "-m", "profilesync.cli", "demo", "--directory", "ad", "--people", "5",
             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        def running() -> bool:
            assert demo.poll() is None, f"the demo exited:\n{log_path.read_text()}"
            return "profilesync demo is running" in log_path.read_text()

        wait_for(running, what="the demo to serve", timeout=180)
        output = log_path.read_text()
        assert "created 5" in output, output
        assert "user000001@example.test" in output
        (dc_url,) = set(re.findall(r"ldaps://127\.0\.0\.\d+", output))

        def login_page_status() -> int | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/") as page:
                    return page.status
            except OSError:  # the banner comes just before the web server listens
                return None

        assert wait_for(login_page_status, what="the login page", timeout=60) == 200
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
        code = demo.wait(timeout=60)

    output = log_path.read_text()
    assert code == 128 + signal.SIGTERM or code == 0, output
    assert "demo directory server stopped" in output
    host = dc_url.removeprefix("ldaps://")
    assert subprocess.run(["bash", "-c", f"exec 3<>/dev/tcp/{host}/636"],
                          capture_output=True).returncode != 0, "the demo's DC still answers"


@pytest.mark.django_db
def test_demo_on_ad_says_why_it_cannot_run_here(cli, monkeypatch):
    """Without root or samba, `demo --directory ad` fails with the reason and the way out."""
    monkeypatch.setattr("profilesync.demo.ad_server.samba_unavailable_reason",
                        lambda: "Samba is not installed (scripts/bootstrap installs it)")

    code, out, err = cli("demo", "--directory", "ad", "--bind", f"127.0.0.1:{free_port()}")

    assert code == 1
    assert "--directory ad" in err and "Samba is not installed" in err
    assert "--directory openldap" in err
