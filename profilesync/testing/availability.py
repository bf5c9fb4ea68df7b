"""What a test does when the server it needs cannot start: skip on a developer's machine,
fail under CI (``CI=true``), where a machine missing slapd, Samba, chromium or PostgreSQL's
server binaries must not pass by skipping every test that needed them."""

from __future__ import annotations

import os

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, reason: str) -> None:
    """Skip the calling test (fail it under CI) because ``what`` cannot run: ``reason``."""
    if under_ci():
        pytest.fail(f"CI must run the tests that need {what}, but {reason}")
    pytest.skip(f"no {what} to test against: {reason}")
