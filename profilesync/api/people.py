"""People endpoints: the same search, visibility and roles as the people directory pages.

A person's values pass through the web pages' own rules (``person_rows`` of the
people directory, ``profile_view`` of the profile page): a field shown only to
the person and administrators is missing from everyone else's answer, not
blanked, and deactivated people exist only for administrators.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from ninja import Query, Router
from ninja.errors import HttpError

from profilesync.accounts.roles import is_administrator
from profilesync.directories.models import Directory
from profilesync.profiles.access import field_accesses, visible_profile
from profilesync.profiles.directory_views import PersonRow, person_rows
from profilesync.profiles.display import NAME_KEY, profile_view
from profilesync.profiles.models import FieldType, Profile, ProfileField
from profilesync.profiles.search.query import Criteria, search_people
from profilesync.profiles.search.text import SearchFields, query_words

from .reporting import reporting_fields
from .schemas import ApiError, FieldDefinition, PeoplePage, PersonDetail, PersonSummary

router = Router(tags=["people"])

MAX_PAGE_SIZE = 200
MAX_QUERY_LENGTH = 200
FILTER_PARAMETER = Query([], description="KEY=VALUE of a select field; repeat for several")


@router.get("/people", response={200: PeoplePage, 422: ApiError})
def list_people(request: HttpRequest, q: str = "", page: int = 1, page_size: int = 48,
                filter: list[str] = FILTER_PARAMETER,
                include_inactive: bool = False) -> PeoplePage:
    """Search the people directory as the web page does: every word must begin some word
    of a person's names or searchable fields; filters must hold exactly."""
    if page < 1:
        raise HttpError(422, "page: must be 1 or more")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise HttpError(422, f"page_size: must be between 1 and {MAX_PAGE_SIZE}")
    fields = list(ProfileField.objects.all())
    criteria = Criteria(
        words=tuple(query_words(q[:MAX_QUERY_LENGTH])),
        filters=_parsed_filters(filter, fields),
        include_inactive=include_inactive and is_administrator(request.user),
    )
    result = search_people(criteria, page, page_size)
    columns = [f for f in fields if f.shown_in_profile and f.type != FieldType.PICTURE
               and f.key != NAME_KEY]
    directory_names = dict(Directory.objects.values_list("pk", "name"))
    return PeoplePage(
        count=result.total, count_is_exact=result.total_exact, page=result.number,
        page_size=result.size, has_next=result.has_next,
        people=[_summary(request, row, directory_names[row.profile.directory_id])
                for row in person_rows(request.user, result.people, fields, columns)])


@router.get("/people/{person_id}", response={200: PersonDetail, 404: ApiError})
def person(request: HttpRequest, person_id: int) -> PersonDetail:
    """One person's profile: the fields the caller may see, in the page's order."""
    return person_detail(request, visible_profile(request, person_id))


@router.get("/fields", response=list[FieldDefinition])
def fields(request: HttpRequest) -> list[FieldDefinition]:
    """The profile fields shown on profile pages, in their order: the keys that the
    people answers and the ``filter`` parameter use."""
    all_fields = list(ProfileField.objects.all())
    search = SearchFields.of(all_fields)
    return [FieldDefinition(key=f.key, label=f.label, type=f.type, category=f.category,
                            searchable=f.key in search.word_keys,
                            filterable=f.key in search.filter_keys)
            for f in all_fields if f.shown_in_profile]


def _parsed_filters(raw: list[str], fields: list[ProfileField]) -> tuple[tuple[str, str], ...]:
    filterable = SearchFields.of(fields).filter_keys
    parsed = []
    for item in raw:
        key, separator, value = item.partition("=")
        if not separator or not value.strip():
            raise HttpError(422, f"filter: {item!r} is not KEY=VALUE (e.g. department=Sales)")
        if key not in filterable:
            choices = ", ".join(filterable) or "none"
            raise HttpError(422, f"filter: {key!r} is not a filterable field "
                                 f"(select fields shown to everyone: {choices})")
        parsed.append((key, value.strip()))
    return tuple(parsed)


def _picture_url(request: HttpRequest, profile: Profile, visible: bool) -> str | None:
    if not visible or not profile.shown_picture:
        return None
    return request.build_absolute_uri(reverse("profile-picture", args=[profile.pk]))


def _summary(request: HttpRequest, row: PersonRow, directory_name: str) -> PersonSummary:
    """One person as the people directory shows them (``person_rows``: the same visibility
    rules), with every shown field as a column."""
    values: dict[str, str | list[str]] = {
        cell.field.key: cell.texts if cell.field.type == FieldType.MULTISELECT else cell.texts[0]
        for cell in row.cells if cell.texts}
    profile = row.profile
    return PersonSummary(
        id=profile.pk, name=row.name, username=profile.username, directory=directory_name,
        active=profile.active, headline=row.headline, fields=values,
        picture_url=request.build_absolute_uri(row.picture_url) if row.picture_url else None,
        url=request.build_absolute_uri(row.url))


def person_detail(request: HttpRequest, profile: Profile) -> PersonDetail:
    view = profile_view(profile, field_accesses(profile), request.user)
    rows = [{"key": row.field.key, "label": row.field.label, "category": section.category,
             "value": row.value if isinstance(row.value, list) else str(row.value),
             "restricted": row.restricted}
            for section in view.sections for row in section.rows]
    return PersonDetail(
        id=profile.pk, name=profile.display_name or profile.username, username=profile.username,
        directory=profile.directory.name, active=profile.active, headline=view.headline,
        fields=rows, picture_url=_picture_url(request, profile, view.shows_picture),
        url=request.build_absolute_uri(reverse("profile", args=[profile.pk])),
        **reporting_fields(profile, request.user))  # issue 17: manager and reports
