"""A person's business card (shown on hover or focus) and their vCards, as views.

* ``/people/<id>/card``: a small HTML fragment that ``card.js`` shows next to
  any link to a profile (people directory, org chart, reporting lines);
* ``/people/<id>/vcard``: that person's ``.vcf``;
* the people directory's search with ``?format=vcf``: everyone it finds, up to
  :data:`MAX_VCARDS`, as one ``.vcf``.

All three show exactly what the profile page would show the viewer
(``person_facts``), and deactivated people only to administrators.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from .access import field_accesses, visible_profile
from .person_facts import person_facts
from .reporting_lines import manager_field
from .search.query import Criteria, search_people
from .vcards import vcard_of

MAX_VCARDS = 1000  # people in one search's .vcf (10 pages of the largest API page)
VCARD_TYPE = "text/vcard; charset=utf-8"


@login_required
def business_card(request: HttpRequest, pk: int) -> HttpResponse:
    profile = visible_profile(request, pk)
    response = render(request, "profiles/_business_card.html",
                      {"facts": person_facts(profile, request.user)})
    response["Cache-Control"] = "private, max-age=60"
    return response


@login_required
def person_vcard(request: HttpRequest, pk: int) -> HttpResponse:
    profile = visible_profile(request, pk)
    text = vcard_of(person_facts(profile, request.user),
                    request.build_absolute_uri(reverse("profile", args=[pk])))
    return _download(text, profile.username or f"person-{pk}")


def search_vcards(request: HttpRequest, criteria: Criteria) -> HttpResponse:
    """Every person the people directory's search finds, one vCard after another."""
    cards: list[str] = []
    page = 1
    accesses: dict[int, list] = {}  # per directory: the same for all its people
    field = manager_field()
    profile_url = request.build_absolute_uri(reverse("profile", args=[987654321]))
    while len(cards) < MAX_VCARDS:
        result = search_people(criteria, page, 200)
        for profile in result.people:
            if profile.directory_id not in accesses:
                accesses[profile.directory_id] = field_accesses(profile)
            facts = person_facts(profile, request.user, accesses[profile.directory_id], field)
            cards.append(vcard_of(facts, profile_url.replace("987654321", str(profile.pk))))
        if not result.has_next:
            break
        page += 1
    return _download("".join(cards[:MAX_VCARDS]), "people")


def _download(text: str, name: str) -> HttpResponse:
    response = HttpResponse(text, content_type=VCARD_TYPE)
    safe = "".join(c for c in name if c.isalnum() or c in "-_.") or "person"
    response["Content-Disposition"] = f'attachment; filename="{safe}.vcf"'
    return response
