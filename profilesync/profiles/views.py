"""The people directory listing; profile pages and the edit dialog are in :mod:`.profile_views`."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Profile

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


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
