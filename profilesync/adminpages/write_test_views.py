"""The write-back test panel page (Data Sources, "Save and test"); the check itself is
``profilesync.writeback.test_panel``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from profilesync.accounts.permissions import MANAGE_DATA_SOURCES
from profilesync.directories.models import Directory
from profilesync.writeback.test_panel import run_test_panel

from .access import admin_page
from .write_test_form import TestPanelForm


@admin_page(MANAGE_DATA_SOURCES)
@require_http_methods(["GET", "POST"])
def write_test_panel(request: HttpRequest) -> HttpResponse:
    """GET shows the form; POST runs the check (it writes to the directory, so it is a
    POST: a link or an image on another site cannot trigger it, CSRF applies). The
    inputs stay in the form for the next check."""
    directories = Directory.objects.filter(type__in=["ldap", "delegated"])
    form = TestPanelForm(request.POST if request.method == "POST" else None,
                         directories=directories)
    result = None
    if request.method == "POST" and form.is_valid():
        result = run_test_panel(form.cleaned_data["directory"],
                                form.cleaned_data["username"].strip(),
                                form.cleaned_data["attribute"].strip())
    return render(request, "adminpages/write_test_panel.html", {"form": form, "result": result})
