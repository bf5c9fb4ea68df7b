"""Directories (System Administrators): list, add, edit, test connection."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from profilesync.accounts.permissions import MANAGE_DIRECTORIES
from profilesync.directories.connection_test import check_connection
from profilesync.directories.models import Directory
from profilesync.live.status import live_status

from .access import admin_page
from .directory_form import DirectoryForm


@admin_page(MANAGE_DIRECTORIES)
def directory_list(request: HttpRequest) -> HttpResponse:
    directories = list(Directory.objects.annotate(profile_count=Count("profiles")))
    for directory in directories:
        directory.live = live_status(directory)  # the listener's state, for the Live column
    return render(request, "adminpages/directory_list.html", {"directories": directories})


@admin_page(MANAGE_DIRECTORIES)
def directory_add(request: HttpRequest) -> HttpResponse:
    form = DirectoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        directory = form.save()
        if directory is not None:
            refusal = directory.sync_refusal()
            messages.success(request, f"Directory {directory.name} added. "
                             + (f"It will not be synced: {refusal}." if refusal
                                else "Test its connection below."))
            return redirect("admin-directory-edit", pk=directory.pk)
    return render(request, "adminpages/directory_edit.html", {"form": form, "directory": None})


@admin_page(MANAGE_DIRECTORIES)
def directory_edit(request: HttpRequest, pk: int) -> HttpResponse:
    directory = get_object_or_404(Directory, pk=pk)
    form = DirectoryForm(request.POST or None, directory=directory)
    if request.method == "POST" and form.is_valid():
        if form.save() is not None:
            messages.success(request, f"Directory {directory.name} saved.")
            return redirect("admin-directory-edit", pk=directory.pk)
    return render(request, "adminpages/directory_edit.html", {"form": form, "directory": directory})


def _setting_field(setting: str) -> tuple[str, str] | None:
    """The form field (id, label) of the setting a failed step names, to link to it."""
    name = DirectoryForm.SETTING_FIELDS.get(setting, setting)
    field = DirectoryForm.base_fields.get(name)
    return (f"id_{name}", field.label or name.replace("_", " ").capitalize()) if field else None


@admin_page(MANAGE_DIRECTORIES)
@require_POST
def directory_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Test the saved settings; htmx gets the steps, others the edit page with them."""
    directory = get_object_or_404(Directory, pk=pk)
    steps = check_connection(directory)
    context = {"steps": [(step, _setting_field(step.setting)) for step in steps],
               "passed": all(step.passed for step in steps), "directory": directory}
    if request.headers.get("HX-Request"):
        return render(request, "adminpages/_connection_steps.html", context)
    return render(request, "adminpages/directory_edit.html",
                  {**context, "form": DirectoryForm(directory=directory)})
