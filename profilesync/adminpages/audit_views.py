"""The write-back audit log and the writes waiting or refused, for administrators."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from profilesync.accounts.permissions import VIEW_WRITE_AUDIT
from profilesync.writeback.audit import audit_csv
from profilesync.writeback.models import PendingStatus, PendingWrite, WriteAudit

from .access import admin_page

# Excel reads a CSV without a byte order mark in the local code page, garbling "Søren".
BYTE_ORDER_MARK = "\ufeff"


def spreadsheet_csv(entries: Iterable[WriteAudit]) -> Iterator[str]:
    """The audit log as CSV for a spreadsheet, a line at a time (a long log streams)."""
    yield BYTE_ORDER_MARK
    yield from audit_csv(entries)


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
