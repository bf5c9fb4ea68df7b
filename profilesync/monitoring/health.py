"""Readiness: the checks behind ``/readyz`` and ``profilesync check``, each naming what failed.

- ``database``: reachable, and every migration applied (a node started before
  ``profilesync init`` ran would serve errors);
- ``cache``: a value written can be read back (sessions' throttle, sync progress);
- ``worker``: when scheduled sync is on, some worker's heartbeat is recent, or
  nothing would run the schedule.

"Scheduled sync is on" (``PROFILESYNC_READY_REQUIRES_WORKER=auto``) means a
syncable directory exists: then the schedule has work, and no worker means no
sync. ``on`` and ``off`` decide it outright.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor

from profilesync.scheduling.clock import database_now

from .heartbeat import newest_beat


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Readiness:
    checks: list[CheckResult]

    @property
    def ready(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failing(self) -> list[CheckResult]:
        return [check for check in self.checks if not check.ok]

    def as_json(self) -> dict:
        return {"ready": self.ready, "checks": [check.as_json() for check in self.checks]}

    def as_text(self) -> str:
        lines = [f"{'ok  ' if c.ok else 'FAIL'} {c.name}: {c.detail}" for c in self.checks]
        return ("ready" if self.ready else "not ready") + "\n" + "\n".join(lines) + "\n"


def _describe(exc: BaseException) -> str:
    # The driver's first line names host, port and cause; never the URL (it may hold a password).
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_database() -> CheckResult:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        connection.close()  # a broken connection is not reused: the next check reconnects
        return CheckResult("database", False, f"cannot reach the database ({_describe(exc)})")
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:3])
        more = f" and {len(plan) - 3} more" if len(plan) > 3 else ""
        return CheckResult("database", False, f"{len(plan)} migrations not applied ({names}{more}); "
                           "run `profilesync init`")
    return CheckResult("database", True, f"{connection.vendor}, migrations applied")


def check_cache() -> CheckResult:
    key = f"profilesync:readiness:{secrets.token_hex(8)}"
    value = secrets.token_hex(8)
    cache = caches["default"]
    try:
        cache.set(key, value, timeout=30)
        read = cache.get(key)
        cache.delete(key)
    except Exception as exc:  # noqa: BLE001 - any backend's failure is "cache not usable"
        return CheckResult("cache", False, f"cannot use the cache ({_describe(exc)})")
    if read != value:
        return CheckResult("cache", False, "a value written to the cache could not be read back")
    return CheckResult("cache", True, type(cache).__name__)


def worker_required() -> bool:
    mode = settings.PROFILESYNC_READY_REQUIRES_WORKER
    if mode in ("on", "off"):
        return mode == "on"
    from profilesync.directories.models import Directory

    return any(directory.sync_refusal() is None for directory in Directory.objects.all())


def check_worker() -> CheckResult:
    try:
        if not worker_required():
            return CheckResult("worker", True, "not required (no syncable directory, or "
                               "PROFILESYNC_READY_REQUIRES_WORKER=off)")
        beat = newest_beat()
        now = database_now()
    except DatabaseError as exc:
        return CheckResult("worker", False, f"cannot read worker heartbeats ({_describe(exc)})")
    limit = settings.PROFILESYNC_WORKER_HEARTBEAT_MAX_AGE_SECONDS
    if beat is None:
        return CheckResult("worker", False, "no worker has ever reported; start `profilesync worker`")
    age = (now - beat.beat_at).total_seconds()
    if age > limit:
        return CheckResult("worker", False, f"no worker heartbeat for {age:.0f} s (limit {limit:g} s, "
                           f"last from {beat.worker_id}); check that `profilesync worker` runs")
    return CheckResult("worker", True, f"{beat.worker_id} reported {max(age, 0):.0f} s ago")


def check_settings() -> CheckResult:
    """Django's system checks (every profilesync setting check among them), for the CLI."""
    from django.core import checks

    problems = [m for m in checks.run_checks() if m.level >= checks.ERROR]
    if problems:
        return CheckResult("settings", False, "; ".join(
            f"{m.id}: {m.msg}" + (f" ({m.hint})" if m.hint else "") for m in problems))
    return CheckResult("settings", True, "no errors")


def readiness(*, include_settings: bool = False) -> Readiness:
    """``include_settings`` adds the system checks: cheap for a command, noise for a probe."""
    database = check_database()
    checks = ([check_settings()] if include_settings else []) + [database, check_cache()]
    if database.ok:  # heartbeats live in the database: without it, only its failure is news
        checks.append(check_worker())
    return Readiness(checks)
