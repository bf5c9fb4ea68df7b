"""The database's index over ``Profile.search_text``, one per database vendor, kept by the database.

SQLite: an FTS5 table without content of its own (``profiles_profile_search``),
its rowid the profile's id, fed by triggers on the profile table, so every
writer (the sync's plain SQL, the ORM, a bulk ``update()`` that deactivates)
keeps it right without knowing it exists. A document is the search text plus
the active marker for an active profile, so "active people matching ..." is
one lookup in the index, counted without reading the table. Django rebuilds a
SQLite table to add most columns, dropping its triggers: :func:`ensure_installed`
runs after every ``migrate`` and puts them back, rebuilding the index.

PostgreSQL: a GIN index over an expression turning the search text (plus the
active marker) into a tsvector whose lexemes are the words as stored, with no
parser or dictionary in between, so both databases match exactly the same
words. Queries repeat :data:`PG_VECTOR` to use it.
"""

from __future__ import annotations

import logging

from django.db.backends.base.base import BaseDatabaseWrapper

from .text import ACTIVE_TOKEN

log = logging.getLogger(__name__)

PROFILE_TABLE = "profiles_profile"
FTS_TABLE = "profiles_profile_search"
SORT_INDEX = "profiles_sort_name_idx"  # (sort_name, id); declared on the model
PG_INDEX = "profiles_profile_search_gin"

# Tokens are the stored words exactly as text.words made them: the ascii tokenizer
# splits only at ASCII punctuation and spaces (every non-ASCII character is part of
# a token, whatever Unicode version SQLite was built with), "_" is a token character
# so filter tokens and the active marker stay whole, and folding is already done.
# detail=none and columnsize=0 because no query asks for positions or ranks; prefix
# indexes for one and two letters, the first searches a person types (measured at
# 100,000 people: "s" 27 -> 18 ms, "an" 9.6 -> 5.6 ms, for 1.7 MB more index).
_FTS_CREATE = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(words, content='', "
    "detail=none, columnsize=0, prefix='1 2', tokenize=\"ascii tokenchars '_'\")"
)


def _document(row: str) -> str:
    return f"{row}.search_text || CASE WHEN {row}.active THEN ' {ACTIVE_TOKEN}' ELSE '' END"


_TRIGGERS = {
    f"{FTS_TABLE}_insert": (
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_insert AFTER INSERT ON {PROFILE_TABLE} BEGIN "
        f"INSERT INTO {FTS_TABLE}(rowid, words) VALUES (new.id, {_document('new')}); END"
    ),
    # A contentless index forgets a document by being told its exact old text.
    f"{FTS_TABLE}_update": (
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_update AFTER UPDATE OF search_text, active "
        f"ON {PROFILE_TABLE} WHEN old.search_text IS NOT new.search_text "
        f"OR old.active IS NOT new.active BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, words) "
        f"VALUES ('delete', old.id, {_document('old')}); "
        f"INSERT INTO {FTS_TABLE}(rowid, words) VALUES (new.id, {_document('new')}); END"
    ),
    f"{FTS_TABLE}_delete": (
        f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_delete AFTER DELETE ON {PROFILE_TABLE} BEGIN "
        f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, words) "
        f"VALUES ('delete', old.id, {_document('old')}); END"
    ),
}

# The profile's tokens as a tsvector: split at the single spaces text.search_text
# puts between them, empty strings removed (an empty search text).
PG_VECTOR = (
    "array_to_tsvector(array_remove(string_to_array("
    f"search_text || CASE WHEN active THEN ' {ACTIVE_TOKEN}' ELSE '' END, ' '), ''))"
)


def install(connection: BaseDatabaseWrapper) -> None:
    """Create the index (idempotent); on SQLite also fill it from the table."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(_FTS_CREATE)
            for sql in _TRIGGERS.values():
                cursor.execute(sql)
            _refill_fts(cursor)
        elif connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON {PROFILE_TABLE} USING gin (({PG_VECTOR}))")


def uninstall(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in _TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {FTS_TABLE}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {PG_INDEX}")


def ensure_installed(connection: BaseDatabaseWrapper) -> bool:
    """Put back what a table rebuild dropped; True when something had to be repaired.

    Only SQLite loses anything (its triggers go with the old table, and rows may
    have changed while they were missing), so there the index is refilled.
    """
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        if PROFILE_TABLE not in connection.introspection.table_names(cursor):
            return False
        columns = {column.name for column in
                   connection.introspection.get_table_description(cursor, PROFILE_TABLE)}
        if "search_text" not in columns:
            return False  # migrated back to before the search existed
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') "
                       "AND name IN (%s, %s, %s, %s)", [FTS_TABLE, *_TRIGGERS])
        present = {row[0] for row in cursor.fetchall()}
    if present == {FTS_TABLE, *_TRIGGERS}:
        return False
    log.info("search index repaired table=%s missing=%s", FTS_TABLE,
             ",".join(sorted({FTS_TABLE, *_TRIGGERS} - present)))
    install(connection)
    return True


def _refill_fts(cursor) -> None:
    cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
    cursor.execute(f"INSERT INTO {FTS_TABLE}(rowid, words) "
                   f"SELECT id, {_document(PROFILE_TABLE)} FROM {PROFILE_TABLE}")
