"""Under CI=true a test whose server or browser cannot start fails; elsewhere it is skipped.

Run as a separate pytest process with slapd and chromium pointed at paths that do not
exist, so the fixtures of tests/conftest.py meet a machine missing them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NEEDS_BOTH = '''
def test_needs_slapd(slapd_server):
    pass

def test_needs_a_browser(page):
    pass
'''

# The project's conftest, loaded under another name, on a machine where slapd and chromium
# are "not installed".
PROBE_CONFTEST = '''
import importlib.util
import sys

import profilesync.testing.slapd as slapd

slapd.SLAPD = "/nonexistent/slapd"
spec = importlib.util.spec_from_file_location("shared_conftest", {path!r})
shared = importlib.util.module_from_spec(spec)
sys.modules["shared_conftest"] = shared
spec.loader.exec_module(shared)
shared.CHROMIUM = "/nonexistent/chromium"
slapd_server, browser, page = shared.slapd_server, shared.browser, shared.page
'''


def run_pytest(tmp_path: Path, ci: str) -> subprocess.CompletedProcess:
    probe = tmp_path / "tests"
    probe.mkdir(exist_ok=True)
    (probe / "conftest.py").write_text(
        PROBE_CONFTEST.format(path=str(ROOT / "tests" / "conftest.py")))
    (probe / "test_probe.py").write_text(NEEDS_BOTH)
    env = {**os.environ, "CI": ci, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "--rootdir", str(tmp_path), "-c", str(ROOT / "pyproject.toml"),
                           str(probe)], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize(("ci", "outcome", "code"), [("true", "2 errors", 1), ("", "2 skipped", 0)])
def test_missing_slapd_and_chromium_fail_under_ci_and_skip_elsewhere(tmp_path, ci, outcome, code):
    """CI=true: both tests fail (pytest counts a failing fixture as an error, exit code 1);
    without CI they are skipped and the run passes."""
    finished = run_pytest(tmp_path, ci)

    assert outcome in finished.stdout, finished.stdout + finished.stderr
    assert finished.returncode == code
    if ci:
        assert "CI must run the tests that need a directory server (slapd)" in finished.stdout
        assert "CI must run the tests that need a browser (chromium)" in finished.stdout
