"""The people directory: search as you type, filters on select fields, tiles or a table, pages.

One view, two answers: the whole page for a normal request (the search box
is a plain GET form, so it works without JavaScript), only the results for
htmx's requests as the person types. Everything the page shows is in the
query string (``q``, ``f-<field key>``, ``view``, ``page``, ``inactive``), so
a result can be linked, reloaded and navigated with the back button.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from profilesync.accounts.roles import is_administrator

from .access import can_see_field
from .business_card import search_vcards
from .display import HEADLINE_KEYS, NAME_KEY
from .models import FieldType, Profile, ProfileField
from .search.choices import filter_choices
from .search.query import Criteria, ResultPage, search_people
from .search.text import SearchFields, query_words, shown_value, value_texts

PAGE_SIZE = 48  # fills rows of 2, 3 and 4 tiles
VIEWS = ("tiles", "table")
FILTER_PARAM_PREFIX = "f-"
MAX_QUERY_LENGTH = 200
TABLE_COLUMN_TYPES = {FieldType.TEXT, FieldType.SELECT, FieldType.MULTISELECT, FieldType.EMAIL,
                      FieldType.PHONE, FieldType.URL, FieldType.DATE}
MAX_TABLE_COLUMNS = 5


def _is_htmx(request: HttpRequest) -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


def login_required_page(view):
    """Django's ``login_required``; an htmx request of a visitor whose session ended is
    sent to the login page as a whole page, not swapped into the results."""
    protected = login_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _is_htmx(request) and not request.user.is_authenticated:
            login = redirect_to_login(request.get_full_path())
            return HttpResponse(status=204, headers={"HX-Redirect": login.url})
        return protected(request, *args, **kwargs)

    return wrapper


@dataclass
class FilterControl:
    key: str
    label: str
    param: str
    choices: list[str]
    selected: str


@dataclass
class Cell:
    field: ProfileField
    texts: list[str]


@dataclass
class PersonRow:
    profile: Profile
    name: str
    url: str
    picture_url: str  # "" when no picture is shown
    headline: list[str]
    cells: list[Cell]

    @property
    def initial(self) -> str:
        return self.name[:1].upper()


@login_required_page
def people_list(request: HttpRequest) -> HttpResponse:
    fields = list(ProfileField.objects.all())
    viewer_is_administrator = is_administrator(request.user)
    query = request.GET.get("q", "").strip()[:MAX_QUERY_LENGTH]
    view = request.GET.get("view") if request.GET.get("view") in VIEWS else VIEWS[0]
    include_inactive = viewer_is_administrator and request.GET.get("inactive") == "1"
    filters = _filter_controls(request, fields)
    criteria = Criteria(
        words=tuple(query_words(query)),
        filters=tuple((control.key, control.selected) for control in filters if control.selected),
        include_inactive=include_inactive,
    )
    if request.GET.get("format") == "vcf":  # issue 17: everyone this search finds, as vCards
        return search_vcards(request, criteria)
    result = search_people(criteria, _page_number(request), PAGE_SIZE)
    state = {"q": query, **{c.param: c.selected for c in filters}, "view": view,
             "inactive": "1" if include_inactive else ""}
    columns = [f for f in fields if f.shown_in_profile and f.type in TABLE_COLUMN_TYPES
               and f.key != NAME_KEY][:MAX_TABLE_COLUMNS]
    context = {
        "query": query,
        "filters": filters,
        "view": view,
        "include_inactive": include_inactive,
        "page": result,
        "columns": columns,
        "rows": person_rows(request.user, result.people, fields,
                             columns if view == "table" else []),
        "count_text": _count_text(result),
        "links": _links(state, result),
        "htmx": _is_htmx(request),
    }
    template = "profiles/_people_results.html" if context["htmx"] else "profiles/people_list.html"
    response = render(request, template, context)
    if context["htmx"]:
        # The address bar shows what was searched, without the form's empty fields.
        response["HX-Push-Url"] = context["links"]["self"]
    # The same address answers a whole page or only the results; caches must keep both.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _filter_controls(request: HttpRequest, fields: list[ProfileField]) -> list[FilterControl]:
    by_key = {f.key: f for f in fields}
    controls = []
    for key in SearchFields.of(fields).filter_keys:
        field = by_key[key]
        param = FILTER_PARAM_PREFIX + key
        selected = request.GET.get(param, "").strip()
        choices = filter_choices(field)
        if selected and selected not in choices:
            choices = [selected, *choices]  # a link from before the choices changed
        controls.append(FilterControl(key, field.label, param, choices, selected))
    return controls


def person_rows(viewer, people: list[Profile], fields: list[ProfileField],
                columns: list[ProfileField]) -> list[PersonRow]:
    """What each tile or table row shows, prepared here rather than in the template: a page
    has 48 of them, and a template tag per row and value is most of a request's time.
    The REST API's people answer is the same rows, with every shown field as a column."""
    by_key = {f.key: f for f in fields}
    headline_fields = [by_key[key] for key in HEADLINE_KEYS if key in by_key]
    pictures = [f for f in fields if f.type == FieldType.PICTURE]
    profile_url = _url_pattern("profile")
    picture_url = _url_pattern("profile-picture")
    rows = []
    for person in people:
        def visible(field: ProfileField, person: Profile = person) -> bool:
            if not field.shown_in_profile:
                return False
            return not field.visible_to or can_see_field(viewer, field, person)

        def texts(field: ProfileField, person: Profile = person) -> list[str]:
            if not visible(field):
                return []
            return value_texts(shown_value(person.values, person.local_values, field.key))

        shows_picture = bool(person.shown_picture) and all(visible(f) for f in pictures)
        rows.append(PersonRow(
            profile=person,
            name=person.display_name or person.username,
            url=profile_url.format(person.pk),
            picture_url=picture_url.format(person.pk) if shows_picture else "",
            headline=[text for field in headline_fields for text in texts(field)],
            cells=[Cell(field, texts(field)) for field in columns],
        ))
    return rows


def _url_pattern(name: str) -> str:
    """``reverse(name, args=[pk])`` as a format string, reversed once per page."""
    return reverse(name, args=[987654321]).replace("987654321", "{}")


def _count_text(result: ResultPage) -> str:
    if not result.total_exact:
        return f"More than {result.total:,} people"
    if result.total == 1:
        return "1 person"
    return f"{result.total:,} people" if result.total else "No one found"


def _links(state: dict[str, str], result: ResultPage) -> dict[str, str]:
    """Addresses of the other view and the neighbouring pages, keeping everything else."""
    base = reverse("people")

    def url(**changes: object) -> str:
        params = {**state, **{name: str(value) for name, value in changes.items()}}
        kept = {name: value for name, value in params.items()
                if value and not (name == "view" and value == VIEWS[0])
                and not (name == "page" and value == "1")}
        return f"{base}?{urlencode(kept)}" if kept else base

    return {
        "self": url(page=result.number),
        "tiles": url(view="tiles", page=result.number),
        "table": url(view="table", page=result.number),
        "previous": url(page=result.number - 1) if result.has_previous else "",
        "next": url(page=result.number + 1) if result.has_next else "",
    }
