"""Plain people pages: the directory listing and a profile page per person.

The full web app (login, search as you type, editing) is a later issue; these
pages exist so the demo shows what a sync imported.
"""

from __future__ import annotations

from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import FieldType, Profile, ProfileField
from .pictures import content_type_for

PAGE_SIZE = 50


def people_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    people = Profile.objects.filter(active=True).only(
        "pk", "display_name", "username", "values", "picture")
    if query:
        people = people.filter(Q(display_name__icontains=query) | Q(username__icontains=query))
    page = Paginator(people.order_by("display_name", "pk"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "profiles/people_list.html", {"page": page, "query": query})


def profile_page(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(Profile.objects.select_related("directory"), pk=pk)
    rows = []
    for field in ProfileField.objects.filter(shown_in_profile=True):
        if field.type == FieldType.PICTURE:
            continue
        value = profile.values.get(field.key)
        if value in (None, "", []):
            continue
        rows.append((field, ", ".join(value) if isinstance(value, list) else value))
    return render(request, "profiles/profile.html", {"profile": profile, "rows": rows})


def profile_picture(request: HttpRequest, pk: int) -> FileResponse:
    profile = get_object_or_404(Profile, pk=pk)
    if not profile.picture or not default_storage.exists(profile.picture):
        raise Http404("no picture")
    response = FileResponse(default_storage.open(profile.picture, "rb"),
                            content_type=content_type_for(profile.picture))
    # The name changes with the content, so a cached copy is never stale.
    response["Cache-Control"] = "private, max-age=86400"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
