"""Writing many profile rows in few statements, for the search index's sake on SQLite.

SQLite's FTS5 writes out the index data it holds in memory at the end of every
statement that fires its triggers. One statement per row (``executemany``)
then writes a tiny index segment per person and merges them over and over:
100,000 inserts into a bare table took 4.5 s that way (0.4 s without the
index), 1.0 to 1.2 s in statements of 100 to 1,000 rows. So on SQLite rows go
in as multi-row ``INSERT`` and ``UPDATE … FROM (VALUES …)`` statements (the
latter since SQLite 3.33). PostgreSQL's GIN index has no such cost and its
driver pipelines ``executemany``, which stays.

Columns and table names are quoted by the caller; values are already adapted.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

ROWS_PER_STATEMENT = 500


def insert_many(cursor, table: str, columns: Sequence[str], rows: list[list]) -> None:
    """``INSERT INTO table (columns)`` one row per item of ``rows``."""
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    if connection.vendor != "sqlite":
        cursor.executemany(head + one, rows)
        return
    for chunk in _chunks(rows):
        cursor.execute(head + ", ".join([one] * len(chunk)), [v for row in chunk for v in row])


def update_many(cursor, table: str, columns: Sequence[str], key: str, rows: list[list]) -> None:
    """Set ``columns`` to a row's values where ``key`` equals its last value."""
    if connection.vendor != "sqlite":
        assignments = ", ".join(f"{column} = %s" for column in columns)
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {key} = %s", rows)
        return
    # The columns of a VALUES list are column1, column2, … in SQLite.
    assignments = ", ".join(f"{column} = new.column{n}" for n, column in enumerate(columns, 1))
    one = "(" + ", ".join(["%s"] * (len(columns) + 1)) + ")"
    for chunk in _chunks(rows):
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([one] * len(chunk))}) "
            f"AS new WHERE {table}.{key} = new.column{len(columns) + 1}",
            [v for row in chunk for v in row])


def _chunks(rows: list[list]):
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        yield rows[start:start + ROWS_PER_STATEMENT]
