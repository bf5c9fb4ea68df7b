"""The write-back audit log and the writes waiting or refused, for administrators."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render

from profilesync.accounts.permissions import VIEW_WRITE_AUDIT
from profilesync.writeback.audit import audit_csv
from profilesync.writeback.models import PendingStatus, PendingWrite, WriteAudit

from .access import admin_page


@admin_page(VIEW_WRITE_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    entries = WriteAudit.objects.all()
    if request.GET.get("format") == "csv":
        response = StreamingHttpResponse(audit_csv(entries.iterator()), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="profilesync-write-audit.csv"'
        return response
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    open_writes = (PendingWrite.objects.filter(
        status__in=[PendingStatus.PENDING, PendingStatus.REFUSED])
        .select_related("profile").order_by("-updated_at")[:100])
    return render(request, "adminpages/write_audit.html", {"page": page, "open_writes": open_writes})
