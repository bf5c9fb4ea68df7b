"""``profilesync writeback pending|retry [--json]``: see and drive the write-back queue.

``pending`` lists the open rows (pending, refused, ended) with their state and
message; ``retry`` runs the retry pass now, as the worker's job does, and prints
each row's outcome. ``retry`` exits 0 even when rows stay pending (that is the
queue working); 1 only when the pass itself could not run.
"""

from __future__ import annotations

import json
import sys

from django.db import DatabaseError

from profilesync.management.base import ProfilesyncCommand
from profilesync.writeback.pending import open_rows, pending_row, pending_rows
from profilesync.writeback.retry import retry_due_writes


class Command(ProfilesyncCommand):
    help = "List the write-backs waiting for the directory, or retry them now."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        pending = actions.add_parser("pending", help="list pending, refused and ended write-backs")
        pending.add_argument("--json", action="store_true", help="a JSON list instead of lines")
        retry = actions.add_parser("retry", help="retry the due pending write-backs now")
        retry.add_argument("--json", action="store_true", help="a JSON list instead of lines")

    def handle(self, *args, action: str, **options) -> None:
        as_json = bool(options.get("json"))
        if action == "pending":
            self._pending(as_json=as_json)
        else:
            self._retry(as_json=as_json)

    def _pending(self, *, as_json: bool) -> None:
        rows = list(pending_rows(open_rows()))
        if as_json:
            self.stdout.write(_dumps(rows))
            return
        if not rows:
            self.stdout.write("no pending write-backs")
        for row in rows:
            self.stdout.write(
                f"{row['username']} ({row['directory']}) {row['field']} = {row['value']!r}: "
                f"{row['state']}, {row['attempts']} attempt(s), next try "
                f"{row['next_try_at'] or '-'}; {row['message']}")

    def _retry(self, *, as_json: bool) -> None:
        try:
            counts = retry_due_writes()
        except DatabaseError as exc:
            self.stderr.write(f"the retry pass could not run: {exc}")
            sys.exit(1)
        rows = [{**pending_row(r.pending), "outcome": r.outcome, "message": r.message}
                for r in counts.rows]
        if as_json:
            self.stdout.write(_dumps(rows))
            return
        for row in rows:
            self.stdout.write(f"{row['username']} ({row['directory']}) {row['field']}: "
                              f"{row['outcome']}" + (f": {row['message']}" if row["message"] else ""))
        self.stdout.write(f"written {counts.written}, still pending {counts.still_pending}, "
                          f"refused {counts.refused}, ended {counts.ended}")


def _dumps(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2)
