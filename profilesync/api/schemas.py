"""What the API answers, as typed schemas: they are also the OpenAPI document's."""

from __future__ import annotations

from ninja import Schema


class Person(Schema):
    """What every answer about a person carries; ``url`` is their page in the web app."""

    id: int
    name: str
    username: str
    directory: str
    active: bool
    headline: list[str]
    picture_url: str | None
    url: str


class PersonSummary(Person):
    fields: dict[str, str | list[str]]


class PeoplePage(Schema):
    count: int
    count_is_exact: bool
    page: int
    page_size: int
    has_next: bool
    people: list[PersonSummary]


class FieldValue(Schema):
    key: str
    label: str
    category: str
    value: str | list[str]
    restricted: str


class PersonRef(Schema):
    """Another person named from this one: their manager, or one of their direct reports."""

    id: int
    name: str
    title: str


class PersonDetail(Person):
    fields: list[FieldValue]
    # Reporting lines (the ``manager`` field, under its visibility rules): null and []
    # when the caller may not see them, or the manager is not in profilesync.
    manager: PersonRef | None = None
    reports: list[PersonRef] = []


class FieldDefinition(Schema):
    key: str
    label: str
    type: str
    category: str
    searchable: bool
    filterable: bool


class ApiError(Schema):
    detail: str


class SyncRunSummary(Schema):
    run: int
    started_at: str | None
    finished_at: str | None
    duration_seconds: float | None
    mode: str
    status: str
    trigger: str
    forced: bool
    interrupted: str
    directories: dict[str, dict]


class QueuedSync(Schema):
    task: str
    detail: str
