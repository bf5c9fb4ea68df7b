"""An administrator changes someone's manager with a person picker; write-back writes the DN.

``/people/<id>/manager/``: a search box that lists people as one types (htmx asks
the same address with ``?q=``, one level of matches), a radio choice per person
and "no manager". Saving goes through the write-back service as a person's own
edit would (``writeback.service.apply_edit``), so the same rules hold: the field
must be fed by the directory with write-back on for it and globally, the write is
conditional on the DN the administrator saw, and it is audited under their name.
Only people of the same directory can be chosen: a DN names an entry there.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from profilesync.accounts.permissions import MANAGE_ROLES
from profilesync.adminpages.access import admin_page
from profilesync.writeback.service import FieldEdit, apply_edit

from .models import Profile
from .reporting_lines import MANAGER_KEY, manager_field, manager_of
from .search.query import Criteria, search_people
from .search.text import query_words

MATCHES = 10
MAX_QUERY_LENGTH = 200


def _candidates(profile: Profile, query: str) -> list[Profile]:
    words = tuple(query_words(query[:MAX_QUERY_LENGTH]))
    if not words:
        return []
    found = search_people(Criteria(words=words), 1, MATCHES * 3).people
    return [p for p in found if p.directory_id == profile.directory_id and p.pk != profile.pk
            ][:MATCHES]


@admin_page(MANAGE_ROLES)
def edit_manager(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(Profile.objects.select_related("directory"), pk=pk)
    if manager_field() is None:
        raise Http404("there is no manager field")
    query = request.GET.get("q", "").strip()
    if request.method == "GET" and request.headers.get("HX-Request") == "true":
        return render(request, "profiles/_manager_choices.html",
                      {"candidates": _candidates(profile, query)})
    error = ""
    if request.method == "POST":
        error = _save(request, profile)
        if not error:
            return redirect("profile", profile.pk)
    return render(request, "profiles/edit_manager.html", {
        "profile": profile, "current": manager_of(profile, request.user), "query": query,
        "candidates": _candidates(profile, query), "error": error,
        "seen": profile.values.get(MANAGER_KEY) or "",
    })


def _save(request: HttpRequest, profile: Profile) -> str:
    """Write the chosen manager's DN (or remove it); the problem to show, or ""."""
    choice = request.POST.get("manager", "")
    if choice == "none":
        new_dn = ""
        name = "no manager"
    else:
        try:
            target = Profile.objects.get(pk=int(choice), directory_id=profile.directory_id,
                                         active=True)
        except (ValueError, Profile.DoesNotExist):
            return "manager: choose a person of the list (same directory) or “No manager”."
        if target.pk == profile.pk:
            return "manager: a person cannot be their own manager."
        new_dn, name = target.dn, target.display_name or target.username
    seen = request.POST.get("seen", "")
    outcome = apply_edit(profile, request.user.get_username(),
                         [FieldEdit(MANAGER_KEY, new_dn, seen or None)], actor_user=request.user)
    if outcome.refused:
        return f"manager: not written to the directory: {outcome.refused[MANAGER_KEY]}"
    if outcome.conflicts:
        _mine, theirs = outcome.conflicts[MANAGER_KEY]
        return (f"manager: changed in the directory since you opened this page; it now holds "
                f"“{theirs or '(empty)'}”. Reload the page and choose again.")
    if outcome.pending:
        messages.warning(request, f"The directory could not be reached: {name} will be written "
                         "as manager automatically when it answers.")
    else:
        messages.success(request, f"Manager set to {name}.")
    return ""
