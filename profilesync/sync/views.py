"""Plain pages for System Administrators: Data Sources (LDAP) and the sync report.

The full web app is a later issue; these pages give the settings and the
report a place in the browser now, with the same checks as the CLI.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from profilesync.accounts.roles import system_administrator_required
from profilesync.directories.models import Directory
from profilesync.directories.services import update_directory
from profilesync.ldapclient.errors import DirectoryError
from profilesync.ldapclient.timestamps import format_last_sync_date
from profilesync.writeback.test_panel import run_test_panel

from .datasources import set_last_sync_date, time_zone_name
from .forms import DataSourcesForm, TestPanelForm
from .models import DataSourceSettings, SyncRun
from .pattern_check import check_pattern, preview_next_run
from .progress import read_progress
from .report import interruption_of

REPORT_PAGE_SIZE = 50


@system_administrator_required
def data_sources(request: HttpRequest) -> HttpResponse:
    zone = timezone.get_current_timezone()
    settings = DataSourceSettings.load()
    directories = [d for d in Directory.objects.all() if d.sync_refusal() is None]
    shown_date = format_last_sync_date(settings.last_ldap_sync_date, zone)
    initial = {"incremental_sync": settings.incremental_sync, "last_ldap_sync_date": shown_date,
               "writeback_enabled": settings.writeback_enabled}
    form = DataSourcesForm(request.POST or None, initial=initial, zone=zone,
                           directories=directories)
    if request.method == "POST" and form.is_valid():
        settings.incremental_sync = form.cleaned_data["incremental_sync"]
        settings.writeback_enabled = form.cleaned_data["writeback_enabled"]
        settings.save(update_fields=["incremental_sync", "writeback_enabled", "updated_at"])
        # Saving the page unchanged must not reset every directory's watermark
        # to the oldest one shown, so the date applies only when it was edited.
        if form.cleaned_data["last_ldap_sync_date"].strip() != shown_date:
            set_last_sync_date(form.cleaned_data["last_sync_moment"])
        for directory in directories:
            pattern = form.cleaned_data[f"pattern_{directory.pk}"].strip()
            if pattern != directory.timestamp_pattern:
                update_directory(directory, {"timestamp_pattern": pattern})
        messages.success(request, "Data Sources saved.")
        if "save_and_test" in request.POST:
            return redirect("write-test-panel")
        return redirect("data-sources")
    previews = [(d, *preview_next_run(d), form[f"pattern_{d.pk}"]) for d in directories]
    return render(request, "sync/data_sources.html", {
        "form": form, "previews": previews, "time_zone": time_zone_name()})


@system_administrator_required
@require_POST
def check_directory_pattern(request: HttpRequest, pk: int) -> HttpResponse:
    directory = get_object_or_404(Directory, pk=pk)
    try:
        check = check_pattern(directory)
        level = messages.SUCCESS if check.understood else messages.ERROR
        messages.add_message(request, level, f"{directory.name}: pattern "
                             f"{check.pattern!r} {check.message}")
    except DirectoryError as exc:
        messages.error(request, f"{directory.name}: cannot ask the directory: {exc}")
    return redirect("data-sources")


@system_administrator_required
def sync_report(request: HttpRequest) -> HttpResponse:
    runs = SyncRun.objects.prefetch_related("results")[:REPORT_PAGE_SIZE]
    running = any(run.status == "running" for run in runs)
    return render(request, "sync/report.html", {"runs": runs, "running": running})


@system_administrator_required
@require_POST
def run_now(request: HttpRequest) -> HttpResponse:
    """Queue "Bulk profile update (LDAP sync)" for the next free worker."""
    from profilesync.scheduling.tasks import enqueue_sync

    queued = enqueue_sync(trigger="manual", force=request.POST.get("force") == "on")
    messages.success(request, f"Sync queued (task {queued.id}); a worker starts it shortly. "
                     "This page refreshes while it runs.")
    return redirect("sync-report")


@system_administrator_required
def sync_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(SyncRun.objects.prefetch_related("results"), pk=pk)
    return render(request, "sync/run_detail.html", {
        "run": run, "interruption": interruption_of(run),
        "progress": read_progress(run.pk) if run.status == "running" else {}})


@system_administrator_required
def write_test_panel(request: HttpRequest) -> HttpResponse:
    """Check write access for a user and attribute; inputs stay for the next check."""
    directories = Directory.objects.filter(type__in=["ldap", "delegated"])
    form = TestPanelForm(request.GET or None, directories=directories)
    result = None
    if request.GET and form.is_valid():
        result = run_test_panel(form.cleaned_data["directory"],
                                form.cleaned_data["username"].strip(),
                                form.cleaned_data["attribute"].strip())
    return render(request, "sync/test_panel.html", {"form": form, "result": result})
