"""The org chart: ``/org/`` (the people at the top) and ``/org/<id>/`` (one person's place).

Each page loads one level of reports: a person's direct reports with how many
people each of them leads; expanding one asks ``/org/<id>/reports`` for the
next level (``org.js``), so no request walks a subtree. Without JavaScript
each name leads to that person's own chart page, so the chart stays usable.

The search box jumps to a person: the people directory's own search, its
first matches linking to their chart pages.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .access import visible_profile
from .directory_views import login_required_page
from .models import Profile
from .reporting_lines import (
    PersonRef,
    chain_of,
    direct_reports,
    lines_visible,
    manager_field,
    top_people,
)
from .search.query import Criteria, search_people
from .search.text import query_words

MAX_QUERY_LENGTH = 200
SEARCH_RESULTS = 10


def _person(request: HttpRequest, pk: int) -> Profile:
    profile = visible_profile(request, pk)
    if not lines_visible(request.user, profile, manager_field()):
        raise Http404("no reporting lines to show")
    return profile


def _matches(request: HttpRequest) -> tuple[str, list[Profile]]:
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    words = tuple(query_words(query))
    if not words:
        return query, []
    return query, search_people(Criteria(words=words), 1, SEARCH_RESULTS).people


@login_required_page
def org_chart(request: HttpRequest) -> HttpResponse:
    query, matches = _matches(request)
    if query and len(matches) == 1 and request.headers.get("HX-Request") != "true":
        return redirect("org-person", matches[0].pk)
    if request.headers.get("HX-Request") == "true":
        return render(request, "profiles/_org_matches.html", {"query": query, "matches": matches})
    field = manager_field()
    top = top_people(request.user) if field is not None else []
    return render(request, "profiles/org_chart.html", {
        "query": query, "matches": matches, "top": top, "has_field": field is not None,
    })


@login_required_page
def org_person(request: HttpRequest, pk: int) -> HttpResponse:
    profile = _person(request, pk)
    chain = chain_of(profile, request.user)
    return render(request, "profiles/org_person.html", {
        "profile": profile, "focus": PersonRef.of(profile), "chain": chain,
        "top_down": list(reversed(chain.people)),
        "reports": direct_reports(profile, request.user), "query": "", "matches": [],
    })


@login_required_page
def org_reports(request: HttpRequest, pk: int) -> HttpResponse:
    """One level: the direct reports of ``pk``, as list items for the chart's tree."""
    profile = _person(request, pk)
    return render(request, "profiles/_org_level.html", {
        "reports": direct_reports(profile, request.user), "level": _level(request)})


def _level(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("level", "2")), 100))
    except ValueError:
        return 2
