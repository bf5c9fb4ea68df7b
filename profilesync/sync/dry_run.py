"""A dry run: the real run, in a transaction that is always rolled back.

Rather than a second, read-only code path that would drift from the real one,
:func:`preview` runs :func:`~.runner.run_sync` itself (same filters, paging,
change tracking, field fills, deletion passes and guard) inside an outer
transaction, reads the change history the run wrote (:mod:`.history`), and
rolls everything back: profiles, pictures, search text, links, watermarks,
syncrepl cookie, USN, the run's own report rows. What lives outside the
database is kept out by the runner's ``dry_run`` flag: no progress is
published to the cache (a rolled-back run number can be handed out again on
SQLite) and no ``ANALYZE`` runs. The directory is only read: a syncrepl
refresh-only search keeps no state on the server, so a cookie that is not
stored loses nothing; the next real run uses the cookie it had.

The guard is weighed but does not stop the preview: it shows what the run
would do past the limit, with the verdict (``tripped``, ``share``, ``limit``)
per directory, so "Run now past the deactivation limit" does what was shown.

On SQLite the outer transaction holds the database's write lock from the
run's first row to the rollback, as a real run holds it per directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction

from profilesync.directories.models import Directory

from . import guard
from .errors import DeactivationGuardTripped
from .importer import ImportCounts
from .models import PersonChange
from .runner import Progress, RunReport, run_sync


@dataclass
class Preview:
    """What a run would do: its report (rolled back), the guard's verdicts, who would change."""

    report: RunReport
    changes: list[dict] = field(default_factory=list)

    @property
    def guards(self) -> dict[str, dict]:
        return self.report.guards

    def as_json(self) -> dict:
        summary = self.report.as_json()
        summary["run"] = None  # nothing was recorded
        summary["dry_run"] = True
        for name, part in summary["directories"].items():
            part["guard"] = {k: v for k, v in self.guards.get(name, _NOT_WEIGHED).items()
                             if k in ("tripped", "share", "limit")}
        return summary

    def change_lines(self) -> Iterable[str]:
        for change in self.changes:
            yield json.dumps(change, ensure_ascii=False)


_NOT_WEIGHED = {"tripped": False, "share": 0.0, "limit": 0.0}


class _RollBack(Exception):
    pass


def preview(directories: Iterable[Directory] | None = None, *, mode: str | None = None,
            progress: Progress | None = None) -> Preview:
    """Run the sync of ``directories`` in ``mode`` without keeping anything; say what it did."""
    result: Preview | None = None
    try:
        with transaction.atomic():
            report = run_sync(directories, mode=mode, trigger="dry-run", progress=progress,
                              dry_run=True)
            changes = [_line(c) for c in PersonChange.objects.filter(run=report.run)
                       .order_by("directory_name", "username", "id").iterator(chunk_size=2000)]
            result = Preview(report, changes)
            raise _RollBack
    except _RollBack:
        pass
    assert result is not None
    return result


def _line(change: PersonChange) -> dict:
    return {"directory": change.directory_name, "username": change.username,
            "action": change.action, "fields": change.fields}


def weigh_guard(directory: Directory, counts: ImportCounts, *, force: bool) -> dict:
    """The guard's verdict on a part, without stopping it.

    ``share``: the share of active users the part deactivates (with the last 24
    hours' when that limit is the one tripped); ``limit``: the limit it is weighed
    against. ``tripped`` is False when ``force`` would let the run pass.
    """
    count = len(set(counts.deactivated_pks))
    active_at_start = guard.active_at_start(directory, counts)
    verdict = {
        "tripped": False,
        "share": round(count / active_at_start, 4) if active_at_start else float(bool(count)),
        "limit": directory.max_deactivate_share,
        "count": count,
        "message": "",
    }
    try:
        guard.check(directory, counts, force=False)
    except DeactivationGuardTripped as exc:
        if exc.limit == "24h":
            earlier = guard.deactivated_in_window(directory)
            verdict["share"] = round((count + earlier) / exc.base, 4) if exc.base else 1.0
        verdict.update(tripped=not force, limit=exc.limit_share, message=str(exc))
    return verdict
