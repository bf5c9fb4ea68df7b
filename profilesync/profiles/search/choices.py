"""The values a filter on a select field offers.

A select field with options offers its options. One without (the default
``department`` is fed by the directory, whose values nobody listed) offers the
distinct values active profiles have. Finding them reads the whole table
(about 0.1 s at 100,000 people), so they are cached for :data:`CHOICES_SECONDS`
in the shared cache: a department that appears with a sync is offered a few
minutes later, and filtering on it by address works at once.
"""

from __future__ import annotations

import json

from django.core.cache import cache
from django.db import connection

from profilesync.profiles.models import Profile

from .text import fold, value_texts

CHOICES_SECONDS = 300
# More distinct values than this make a poor drop-down; the first ones (sorted) are offered.
MAX_CHOICES = 300


def filter_choices(field) -> list[str]:
    """The choices of ``field``'s filter, in display order."""
    if field.options:
        return [str(option) for option in field.options]
    key = f"people-search:choices:{field.key}"
    choices = cache.get(key)
    if choices is None:
        choices = stored_values(field.key)
        cache.set(key, choices, CHOICES_SECONDS)
    return choices


def forget_choices(field_key: str) -> None:
    cache.delete(f"people-search:choices:{field_key}")


def stored_values(key: str) -> list[str]:
    """The distinct values of field ``key`` among active profiles, from the directory or
    entered by people themselves; values differing only in case or accents count once (the
    first spelling met is kept)."""
    distinct: dict[str, str] = {}
    for column in ("values", "local_values"):
        for raw in _distinct_texts(column, key):
            for text in value_texts(_decoded(raw)):
                distinct.setdefault(fold(text).strip(), text.strip())
    return [distinct[folded] for folded in sorted(distinct)][:MAX_CHOICES]


def _distinct_texts(column: str, key: str) -> list[str]:
    """The distinct values of one JSON key as text (a list as its JSON text)."""
    table = connection.ops.quote_name(Profile._meta.db_table)
    column = connection.ops.quote_name(Profile._meta.get_field(column).column)
    if connection.vendor == "postgresql":
        value, params = f"{column} ->> %s", [key]
    else:
        value, params = f"json_extract({column}, %s)", ['$."' + key.replace('"', '""') + '"']
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT {value} FROM {table} WHERE active AND {value} IS NOT NULL",
                       params + params)
        return [row[0] for row in cursor.fetchall()]


def _decoded(raw: object) -> object:
    """A multi-select's list comes back as JSON text; anything else is the value itself."""
    if isinstance(raw, str) and raw.startswith("["):
        try:
            return json.loads(raw)
        except ValueError:
            pass
    return raw
