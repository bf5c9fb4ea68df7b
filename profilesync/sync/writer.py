"""Bulk writes of profile rows with plain SQL through Django's connection.

The ORM's ``bulk_create`` and ``bulk_update`` build a model instance and
compile every value of every row; at 100,000 people that cost more than
reading the directory. Here a page becomes one ``executemany`` of plain
tuples. Column names come from the model's metadata, and values are adapted
by the database backend's own operations, so SQLite and PostgreSQL take the
same path.

Each row also gets its search columns (``profiles.search.text``): the sync is
the writer of almost every profile, so the search text is computed here, with
the values it describes, from the fields searched when the page is written. On
SQLite a page goes in as a few multi-row statements (``profiles.search.bulk``
says why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone

from profilesync.profiles.models import Profile
from profilesync.profiles.search.bulk import insert_many, update_many
from profilesync.profiles.search.columns import load_search_fields
from profilesync.profiles.search.text import SearchFields, search_columns


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


def _values(row: ProfileRow, updated_at, fields: SearchFields, local_values: dict) -> list:
    return [
        row.unique_id, row.username, row.dn, row.display_name,
        connection.ops.adapt_json_value(row.values, None), row.picture, row.digest, row.active,
        _adapt_time(row.deactivated_at), updated_at,
        *search_columns(row.display_name, row.username, row.values, local_values, fields),
    ]


def insert_rows(rows: list[ProfileRow], directory_id: int, now: datetime) -> None:
    if not rows:
        return
    columns = [*_SYNCED, "created_at", "directory"]
    stamp = _adapt_time(now)
    fields = load_search_fields()
    params = [[*_values(row, stamp, fields, {}), stamp, directory_id] for row in rows]
    with connection.cursor() as cursor:
        insert_many(cursor, connection.ops.quote_name(Profile._meta.db_table),
                    [_column(c) for c in columns], params)


def update_rows(rows: list[ProfileRow], now: datetime) -> None:
    if not rows:
        return
    stamp = _adapt_time(now)
    fields = load_search_fields()
    # What people entered themselves is searched too; the sync never writes it.
    local = dict(Profile.objects.filter(pk__in=[row.pk for row in rows]).values_list(
        "pk", "local_values"))
    params = [[*_values(row, stamp, fields, local.get(row.pk) or {})[1:], row.pk] for row in rows]
    with connection.cursor() as cursor:
        update_many(cursor, connection.ops.quote_name(Profile._meta.db_table),
                    [_column(c) for c in _SYNCED if c != "unique_id"], _column("id"), params)


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
        params.append([connection.ops.adapt_json_value(values, None), "", stamp, text, pk])
    with connection.cursor() as cursor:
        update_many(cursor, connection.ops.quote_name(Profile._meta.db_table),
                    [_column(c) for c in ("values", "digest", "updated_at", "search_text")],
                    _column("id"), params)
