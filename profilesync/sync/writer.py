"""Bulk writes of profile rows with plain SQL through Django's connection.

The ORM's ``bulk_create`` and ``bulk_update`` build a model instance and
compile every value of every row; at 100,000 people that cost more than
reading the directory. Here a page becomes a few statements of plain
values (``profiles.search.bulk``: multi-row statements on SQLite, ``COPY`` on
PostgreSQL). Column names come from the model's metadata, and times are
adapted by the database backend's own operations.

Each row also gets its search columns (``profiles.search.text``): the sync is
the writer of almost every profile, so the search text is computed here, with
the values it describes, from the fields searched when the page is written.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from profilesync.profiles.models import Profile
from profilesync.profiles.search.bulk import insert_many, update_many
from profilesync.profiles.search.columns import load_search_fields
from profilesync.profiles.search.text import SearchFields, search_columns

from .background_writes import Job, run_now


@dataclass(slots=True)
class ProfileRow:
    """The columns a sync writes for one person."""

    unique_id: str
    username: str
    dn: str
    display_name: str
    values: dict
    picture: str
    digest: str
    active: bool
    deactivated_at: datetime | None
    pk: int | None = None


_SYNCED = ("unique_id", "username", "dn", "display_name", "values", "picture", "digest",
           "active", "deactivated_at", "updated_at", "search_text", "sort_name")


def _column(name: str) -> str:
    return connection.ops.quote_name(Profile._meta.get_field(name).column)


def _adapt_time(moment: datetime | None):
    return None if moment is None else connection.ops.adapt_datetimefield_value(moment)


def _row_values(rows: list[ProfileRow], updated_at, local_values: dict[int, dict],
                fields: SearchFields | None) -> list[list]:
    """The ``_SYNCED`` values of ``rows``, adapted for the database.

    Called once per page: the backend's operations are looked up once, not per
    value through Django's connection proxy, and the JSON goes through
    ``json.dumps`` as Django's JSONField would send it (no custom encoder).
    """
    fields = fields or load_search_fields()
    adapt_time = connection.ops.adapt_datetimefield_value
    dumps = json.dumps
    return [
        [row.unique_id, row.username, row.dn, row.display_name, dumps(row.values), row.picture,
         row.digest, row.active,
         None if row.deactivated_at is None else adapt_time(row.deactivated_at), updated_at,
         *search_columns(row.display_name, row.username, row.values,
                         local_values.get(row.pk) or {}, fields)]
        for row in rows
    ]


def insert_rows(rows: list[ProfileRow], directory_id: int, now: datetime,
                write: Callable[[Job], None] = run_now, fields: SearchFields | None = None) -> None:
    """Insert ``rows``; the rows are built here, the statements run through ``write``.

    ``fields``: the searched fields, when the caller read them once for many pages
    (else they are read here).
    """
    if not rows:
        return
    columns = [*_SYNCED, "created_at", "directory"]
    stamp = _adapt_time(now)
    params = [[*values, stamp, directory_id] for values in _row_values(rows, stamp, {}, fields)]
    table = connection.ops.quote_name(Profile._meta.db_table)
    quoted = [_column(c) for c in columns]
    write(lambda cursor: insert_many(cursor, table, quoted, params))


def update_rows(rows: list[ProfileRow], now: datetime,
                write: Callable[[Job], None] = run_now, fields: SearchFields | None = None) -> None:
    """Update ``rows`` (by pk); the rows are built here, the statements run through ``write``."""
    if not rows:
        return
    stamp = _adapt_time(now)
    # What people entered themselves is searched too; the sync never writes it.
    local = dict(Profile.objects.filter(pk__in=[row.pk for row in rows]).values_list(
        "pk", "local_values"))
    params = [[*values[1:], row.pk]
              for row, values in zip(rows, _row_values(rows, stamp, local, fields), strict=True)]
    table = connection.ops.quote_name(Profile._meta.db_table)
    quoted = [_column(c) for c in _SYNCED if c != "unique_id"]
    key = _column("id")
    write(lambda cursor: update_many(cursor, table, quoted, key, params))


def update_values(changes: list[tuple[int, dict]]) -> None:
    """Store new field values for profiles, clearing their digest (see ``field_fill_pass``)."""
    if not changes:
        return
    stamp = _adapt_time(timezone.now())
    fields = load_search_fields()
    names = {pk: rest for pk, *rest in Profile.objects.filter(
        pk__in=[pk for pk, _ in changes]).values_list("pk", "display_name", "username",
                                                       "local_values")}
    params = []
    for pk, values in changes:
        display_name, username, local_values = names[pk]
        text, _ = search_columns(display_name, username, values, local_values, fields)
        params.append([json.dumps(values), "", stamp, text, pk])
    with connection.cursor() as cursor:
        update_many(cursor, connection.ops.quote_name(Profile._meta.db_table),
                    [_column(c) for c in ("values", "digest", "updated_at", "search_text")],
                    _column("id"), params)
