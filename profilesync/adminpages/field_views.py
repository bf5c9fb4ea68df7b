"""The profile editor: list, create, edit, reorder and delete profile fields."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from profilesync.accounts.permissions import MANAGE_FIELDS
from profilesync.directories.models import Directory
from profilesync.profiles.field_order import move_field
from profilesync.profiles.models import Profile, ProfileField
from profilesync.sync.models import DataSourceSettings

from .access import admin_page
from .field_form import WRITE_BACK_LABEL, ProfileFieldForm


def write_back_enabled_globally() -> bool:
    """The global write-back switch, which a System Administrator sets on Data Sources."""
    return DataSourceSettings.load().writeback_enabled


def _fields():
    return ProfileField.objects.annotate(override_count=Count("overrides")).order_by("position", "key")


@admin_page(MANAGE_FIELDS)
def field_list(request: HttpRequest) -> HttpResponse:
    return render(request, "adminpages/field_list.html", {
        "fields": _fields(), "write_back_enabled": write_back_enabled_globally()})


def _edit_page(request: HttpRequest, field: ProfileField | None) -> HttpResponse:
    form = ProfileFieldForm(request.POST or None, field=field, directories=Directory.objects.all(),
                            actor=request.user)
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        if saved is not None:
            verb = "added" if field is None else "saved"
            messages.success(request, f"Field {saved.label} ({saved.key}) {verb}.")
            return redirect("admin-fields")
    categories = sorted({c for c in ProfileField.objects.values_list("category", flat=True) if c})
    return render(request, "adminpages/field_edit.html", {
        "form": form, "field": field, "categories": categories,
        "write_back_label": WRITE_BACK_LABEL, "write_back_enabled": write_back_enabled_globally(),
        "may_change_write_back": form.may_map,
    })


@admin_page(MANAGE_FIELDS)
def field_add(request: HttpRequest) -> HttpResponse:
    return _edit_page(request, None)


@admin_page(MANAGE_FIELDS)
def field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit_page(request, get_object_or_404(ProfileField, pk=pk))


@admin_page(MANAGE_FIELDS)
@require_POST
def field_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a field one place up or down; htmx gets the table back, others the page."""
    field = get_object_or_404(ProfileField, pk=pk)
    move_field(field, -1 if request.POST.get("direction") == "up" else 1)
    if request.headers.get("HX-Request"):
        return render(request, "adminpages/_field_table.html", {"fields": _fields()})
    return redirect("admin-fields")


@admin_page(MANAGE_FIELDS)
def field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes. Values stay in profiles but are not shown."""
    field = get_object_or_404(ProfileField, pk=pk)
    if request.method == "POST":
        field.delete()
        messages.success(request, f"Field {field.label} ({field.key}) deleted.")
        return redirect("admin-fields")
    with_values = Profile.objects.filter(values__has_key=field.key).count()
    return render(request, "adminpages/field_delete.html", {"field": field,
                                                            "with_values": with_values})
