"""The write-back audit log as rows for the page, the CSV download and the CLI."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from profilesync.spreadsheet import as_text_cell

from .models import WriteAudit

COLUMNS = ("at", "actor", "profile_username", "directory_name", "dn", "attribute",
           "old_value", "new_value", "result", "method", "message")


def audit_rows(entries: Iterable[WriteAudit]) -> Iterator[dict]:
    for entry in entries:
        row = {column: getattr(entry, column) for column in COLUMNS}
        row["at"] = entry.at.isoformat()
        yield row


def audit_csv(entries: Iterable[WriteAudit]) -> Iterator[str]:
    """CSV text, a line at a time, so a long log streams instead of filling memory; no cell
    starts a spreadsheet formula (the web download and ``audit export --csv`` both use it)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in audit_rows(entries):
        writer.writerow({column: as_text_cell(value) for column, value in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
