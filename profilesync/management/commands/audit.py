"""``profilesync audit export [--csv]``: the write-back audit log, oldest first."""

from __future__ import annotations

import json

from profilesync.management.base import ProfilesyncCommand
from profilesync.writeback.audit import audit_csv, audit_rows
from profilesync.writeback.models import WriteAudit


class Command(ProfilesyncCommand):
    help = "Export the write-back audit log (JSON lines, or CSV)."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="print every write attempt")
        export.add_argument("--csv", action="store_true", help="CSV instead of JSON lines")

    def handle(self, *args, action: str, csv: bool = False, **options) -> None:
        entries = WriteAudit.objects.order_by("at", "id").iterator()
        if csv:
            for chunk in audit_csv(entries):
                self.stdout.write(chunk, ending="")
            return
        for row in audit_rows(entries):
            self.stdout.write(json.dumps(row, ensure_ascii=False))
