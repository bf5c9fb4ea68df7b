"""Data Sources (LDAP), for System Administrators: sync settings, timestamp patterns,
the write-back switch, and checking a directory's timestamp pattern."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from profilesync.accounts.permissions import MANAGE_DATA_SOURCES
from profilesync.directories.models import Directory
from profilesync.directories.services import update_directory
from profilesync.ldapclient.errors import DirectoryError
from profilesync.ldapclient.timestamps import format_last_sync_date
from profilesync.live.status import live_status, set_live
from profilesync.sync.datasources import SWITCHES, set_setting, time_zone_name
from profilesync.sync.models import DataSourceSettings
from profilesync.sync.pattern_check import check_pattern, next_run_reason, preview_next_run

from .access import admin_page
from .data_sources_form import DataSourcesForm


@admin_page(MANAGE_DATA_SOURCES)
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
        for directory in _save(form, directories, shown_date):
            _report_pattern_check(request, directory)
        messages.success(request, "Data Sources saved.")
        if "save_and_test" in request.POST:
            return redirect("write-test-panel")
        return redirect("data-sources")
    previews = [(d, *preview_next_run(d), form[f"pattern_{d.pk}"], next_run_reason(d),
                 form[f"live_{d.pk}"], live_status(d)) for d in directories]
    return render(request, "adminpages/data_sources.html", {
        "form": form, "previews": previews, "time_zone": time_zone_name()})


@transaction.atomic
def _save(form: DataSourcesForm, directories: list[Directory], shown_date: str) -> list[Directory]:
    """Every change through the services the CLI uses (`settings set`, `directory set`),
    so the page and the command line store and refuse alike; returns the directories
    whose timestamp pattern changed, to be checked against their server."""
    for key in SWITCHES:
        set_setting(key, "on" if form.cleaned_data[key] else "off")
    # Saving the page unchanged must not reset every directory's watermark
    # to the oldest one shown, so a date applies only when it was edited. An
    # empty date always applies: the seed's contract is that the next run is full.
    entered = form.cleaned_data["last_ldap_sync_date"].strip()
    if entered != shown_date or not entered:
        set_setting("last_ldap_sync_date", entered)
    changed = []
    for directory in directories:
        pattern = form.cleaned_data[f"pattern_{directory.pk}"].strip()
        if pattern != directory.timestamp_pattern:
            update_directory(directory, {"timestamp_pattern": pattern})
            changed.append(directory)
        set_live(directory, form.cleaned_data[f"live_{directory.pk}"] or None)
    return changed


@admin_page(MANAGE_DATA_SOURCES)
@require_POST
def check_directory_pattern(request: HttpRequest, pk: int) -> HttpResponse:
    _report_pattern_check(request, get_object_or_404(Directory, pk=pk))
    return redirect("data-sources")


def _report_pattern_check(request: HttpRequest, directory: Directory) -> None:
    """Ask the directory whether it understands its pattern and show the answer."""
    try:
        check = check_pattern(directory)
        level = messages.SUCCESS if check.understood else messages.ERROR
        messages.add_message(request, level, f"{directory.name}: pattern "
                             f"{check.pattern!r} {check.message}")
    except DirectoryError as exc:
        messages.error(request, f"{directory.name}: cannot ask the directory: {exc}")
