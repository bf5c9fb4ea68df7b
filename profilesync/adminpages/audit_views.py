"""The write-back audit log and the writes waiting or refused, for administrators."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from profilesync.accounts.permissions import VIEW_WRITE_AUDIT
from profilesync.writeback.audit import COLUMNS, audit_rows
from profilesync.writeback.models import PendingStatus, PendingWrite, WriteAudit

from .access import admin_page

# A cell a spreadsheet would read as a formula starts with one of these (OWASP, "CSV
# injection"): values come from the directory and from people's own edits, so a
# "=HYPERLINK(...)" title must reach the spreadsheet as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Excel reads a CSV without a byte order mark in the local code page, garbling "Søren".
BYTE_ORDER_MARK = "\ufeff"


def as_text_cell(value: object) -> object:
    """``=1+1`` -> ``'=1+1``: the apostrophe makes a spreadsheet show the text as it is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_csv(entries: Iterable[WriteAudit]) -> Iterator[str]:
    """The audit log as CSV for a spreadsheet, a line at a time (a long log streams)."""
    buffer = io.StringIO()
    buffer.write(BYTE_ORDER_MARK)
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS)
    writer.writeheader()
    for row in audit_rows(entries):
        writer.writerow({column: as_text_cell(value) for column, value in row.items()})
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()


@admin_page(VIEW_WRITE_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = WriteAudit.objects.all()
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(spreadsheet_csv(entries.iterator()),
                                         content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="profilesync-write-audit.csv"'
        return response
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    open_writes = (PendingWrite.objects.filter(
        status__in=[PendingStatus.PENDING, PendingStatus.REFUSED, PendingStatus.ENDED])
        .select_related("profile").order_by("-updated_at")[:100])
    return render(request, "adminpages/write_audit.html", {"page": page, "open_writes": open_writes})
