"""The sync report, one run's detail and "run now", for System Administrators."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from profilesync.accounts.permissions import RUN_SYNC
from profilesync.sync.models import SyncRun
from profilesync.sync.progress import read_progress
from profilesync.sync.report import interruption_of

from .access import admin_page

REPORT_PAGE_SIZE = 50


@admin_page(RUN_SYNC)
def sync_report(request: HttpRequest) -> HttpResponse:
    runs = SyncRun.objects.prefetch_related("results")[:REPORT_PAGE_SIZE]
    running = any(run.status == "running" for run in runs)
    return render(request, "adminpages/sync_report.html", {"runs": runs, "running": running})


@admin_page(RUN_SYNC)
@require_POST
def run_now(request: HttpRequest) -> HttpResponse:
    """Queue "Bulk profile update (LDAP sync)" for the next free worker."""
    from profilesync.scheduling.tasks import enqueue_sync

    queued = enqueue_sync(trigger="manual", force=request.POST.get("force") == "on")
    messages.success(request, f"Sync queued (task {queued.id}); a worker starts it shortly. "
                     "This page refreshes while it runs.")
    return redirect("sync-report")


@admin_page(RUN_SYNC)
def sync_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun.objects.prefetch_related("results"), pk=pk)
    return render(request, "adminpages/sync_run_detail.html", {
        "run": run, "interruption": interruption_of(run),
        "progress": read_progress(run.pk) if run.status == "running" else {}})
