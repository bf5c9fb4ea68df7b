"""Small views with no room of their own; the people directory is in :mod:`.directory_views`,
profile pages and the edit dialog in :mod:`.profile_views`."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return HttpResponse("ok", content_type="text/plain")
