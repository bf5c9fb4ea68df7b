"""The Sync report's "Preview": queue a dry run, watch its progress, read what would change.

From the result a System Administrator runs the real sync with "Run now" (the
report's own form), "past the deactivation limit" already ticked when the
preview found that the guard would stop it.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from profilesync.accounts.permissions import RUN_SYNC
from profilesync.sync.models import ChangeAction, RunStatus, SyncPreview
from profilesync.sync.preview_task import read_preview_progress, start_preview

from .access import admin_page
from .templatetags.change_history import field_choices

PAGE_SIZE = 50


@admin_page(RUN_SYNC)
@require_POST
def preview_now(request: HttpRequest) -> HttpResponse:
    row = start_preview(requested_by=request.user.get_username())
    return redirect("sync-preview", pk=row.pk)


@admin_page(RUN_SYNC)
def preview_page(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(SyncPreview, pk=pk)
    action = request.GET.get("action", "")
    action = action if action in ChangeAction.values else ""
    fields = field_choices()
    field = request.GET.get("field", "")
    field = field if field in fields else ""
    changes = [c for c in row.changes
               if (not action or c["action"] == action) and (not field or field in c["fields"])]
    page = Paginator(changes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "adminpages/sync_preview.html", {
        "preview": row, "running": row.status == RunStatus.RUNNING,
        "progress": read_preview_progress(row.pk) if row.status == RunStatus.RUNNING else {},
        "directories": row.summary.get("directories", {}),
        "page": page, "action": action, "field": field, "fields": fields,
        "actions": [c for c in ChangeAction.choices if c[0] != ChangeAction.EDIT], "prefix": ""})
