"""The write-back test panel page (Data Sources, "Save and test"); the check itself is
``profilesync.writeback.test_panel``."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from profilesync.accounts.permissions import MANAGE_DATA_SOURCES
from profilesync.directories.models import Directory
from profilesync.writeback.test_panel import run_test_panel

from .access import admin_page
from .write_test_form import TestPanelForm


@admin_page(MANAGE_DATA_SOURCES)
def write_test_panel(request: HttpRequest) -> HttpResponse:
    """Check write access for a user and attribute; inputs stay for the next check."""
    directories = Directory.objects.filter(type__in=["ldap", "delegated"])
    form = TestPanelForm(request.GET or None, directories=directories)
    result = None
    if request.GET and form.is_valid():
        result = run_test_panel(form.cleaned_data["directory"],
                                form.cleaned_data["username"].strip(),
                                form.cleaned_data["attribute"].strip())
    return render(request, "adminpages/write_test_panel.html", {"form": form, "result": result})
