"""A search of the people directory: one page of profiles, in name order, and how many match.

A search is words (each must begin some word of the person's search text),
filters (a select field has a value) and whether deactivated people count.
Without words or filters it is the plain listing, read in name order from the
``(sort_name, id)`` index with an exact count.

With words or filters, the index gives the matches; the cost of a search then
depends on how many match, so:

* matches are counted up to :data:`COUNT_LIMIT`; past it the page says "more
  than" instead of a number, so a one-letter search costs what a precise one does;
* few matches are sorted; many are found by walking the name order and keeping
  the rows that match: a few hundred rows when a tenth of everyone matches,
  instead of sorting tens of thousands.

SQLite's FTS5 answers with profile ids without reading the table, so counting
is cheap there and walking the whole name order costs about 10 ms at 100,000
people; it sorts up to :data:`SQLITE_SORT_LIMIT` matches and walks beyond.
PostgreSQL checks every match in the table, so its first query counts up to
the limit and sorts those same rows in one pass; past the limit it walks,
checking each row's search text itself (``LIKE`` on the same words, cheaper
than rebuilding the tsvector), and gives up after :func:`walk_rows` rows when
the matches are bunched late in the name order (a common first name), falling
back to sorting them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import connection

from profilesync.profiles.models import Profile

from .index import FTS_TABLE, PG_VECTOR, PROFILE_TABLE, SORT_INDEX
from .text import ACTIVE_TOKEN, filter_token

COUNT_LIMIT = 5000
# No page starts further in than this: far past any directory, and far below the
# 64-bit OFFSET the databases accept (?page=9223372036854775807 answered 500).
MAX_OFFSET = 10**9
# SQLite: at most this many matches are sorted; more are found by walking the name order.
SQLITE_SORT_LIMIT = 500
MIN_WALK_ROWS = 10_000

# What a page of results needs of each profile.
RESULT_COLUMNS = ("pk", "display_name", "username", "values", "local_values", "picture",
                  "local_picture", "active", "user_id", "directory_id")


@dataclass(frozen=True)
class Criteria:
    words: tuple[str, ...] = ()
    filters: tuple[tuple[str, str], ...] = ()  # (field key, value)
    include_inactive: bool = False

    @property
    def is_listing(self) -> bool:
        return not self.words and not self.filters

    @property
    def exact_tokens(self) -> list[str]:
        """Tokens a match must have as they are: one per filter, and the active marker."""
        tokens = [filter_token(key, value) for key, value in self.filters]
        if not self.include_inactive:
            tokens.append(ACTIVE_TOKEN)
        return tokens


@dataclass
class ResultPage:
    people: list[Profile]
    number: int
    size: int
    total: int  # exact when total_exact, else COUNT_LIMIT (there are more)
    total_exact: bool
    has_next: bool
    criteria: Criteria = field(default_factory=Criteria)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def num_pages(self) -> int | None:
        """How many pages there are, when the count is exact."""
        if not self.total_exact:
            return None
        return max(1, -(-self.total // self.size))

    @property
    def start_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.people else 0

    @property
    def end_index(self) -> int:
        return (self.number - 1) * self.size + len(self.people)


def search_people(criteria: Criteria, page_number: int = 1, page_size: int = 48) -> ResultPage:
    page_number = max(1, page_number)
    offset = min((page_number - 1) * page_size, MAX_OFFSET)
    if criteria.is_listing:
        ids, total, exact = _listing(criteria, offset, page_size + 1)
    else:
        searcher = _PostgresSearch if connection.vendor == "postgresql" else _SqliteSearch
        ids, total, exact = searcher(criteria).page(offset, page_size + 1)
    found = Profile.objects.only(*RESULT_COLUMNS).in_bulk(ids[:page_size])
    people = [found[pk] for pk in ids[:page_size] if pk in found]
    return ResultPage(people, page_number, page_size, total, exact,
                      has_next=len(ids) > page_size, criteria=criteria)


def _listing(criteria: Criteria, offset: int, limit: int) -> tuple[list[int], int, bool]:
    people = Profile.objects.all()
    if not criteria.include_inactive:
        people = people.filter(active=True)
    ids = list(people.order_by("sort_name", "pk").values_list("pk", flat=True)[offset:offset + limit])
    return ids, people.count(), True


class _SqliteSearch:
    """FTS5: the index answers with profile ids, so counting never reads the table."""

    def __init__(self, criteria: Criteria):
        terms = [f'"{_fts_quote(word)}"*' for word in criteria.words]
        terms += [f'"{_fts_quote(token)}"' for token in criteria.exact_tokens]
        self.match = " AND ".join(terms)

    def page(self, offset: int, limit: int) -> tuple[list[int], int, bool]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM ({self.MATCHES} LIMIT %s)",
                           [self.match, COUNT_LIMIT + 1])
            (count,) = cursor.fetchone()
            # Sorting costs about 3 µs a match; walking the name order about 0.2 µs a row
            # (a probe of the set of matching ids), all 100,000 rows then costing what
            # sorting 7,000 matches would. So: sort few; walk a bounded stretch for a few
            # thousand (spread out, they turn up early; bunched late, sort them instead);
            # walk as far as needed for more.
            if count <= SQLITE_SORT_LIMIT:
                ids = self._sorted(cursor, offset, limit)
            elif count <= COUNT_LIMIT:
                ids = self._walk(cursor, offset, limit, walk_rows(offset, limit))
                if len(ids) < limit:
                    ids = self._sorted(cursor, offset, limit)
            else:
                ids = self._walk(cursor, offset, limit, None)
        return ids, min(count, COUNT_LIMIT), count <= COUNT_LIMIT

    MATCHES = f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s"

    def _sorted(self, cursor, offset: int, limit: int) -> list[int]:
        cursor.execute(
            f"SELECT id FROM {PROFILE_TABLE} NOT INDEXED WHERE id IN ({self.MATCHES}) "
            "ORDER BY sort_name, id LIMIT %s OFFSET %s", [self.match, limit, offset])
        return [row[0] for row in cursor.fetchall()]

    def _walk(self, cursor, offset: int, limit: int, rows: int | None) -> list[int]:
        walked = f"{PROFILE_TABLE} INDEXED BY {SORT_INDEX}"
        params: list = []
        if rows is not None:
            walked = (f"(SELECT id, sort_name FROM {walked} ORDER BY sort_name, id "
                      "LIMIT %s) AS walked")
            params.append(rows)
        cursor.execute(
            f"SELECT id FROM {walked} WHERE id IN ({self.MATCHES}) "
            "ORDER BY sort_name, id LIMIT %s OFFSET %s", [*params, self.match, limit, offset])
        return [row[0] for row in cursor.fetchall()]


def _fts_quote(token: str) -> str:
    return token.replace('"', '""')


class _PostgresSearch:
    """GIN over a tsvector: matches are found in the index and checked in the table."""

    def __init__(self, criteria: Criteria):
        lexemes = [f"{_tsquery_quote(word)}:*" for word in criteria.words]
        lexemes += [_tsquery_quote(token) for token in criteria.exact_tokens]
        self.tsquery = " & ".join(lexemes)
        # The same condition for a row in hand: a word starts after a space; a filter
        # token is a whole word; the active marker is the column itself.
        like = connection.ops.prep_for_like_query
        self.row_conditions = ["(' ' || search_text) LIKE %s" for _ in criteria.words]
        self.row_params = [f"% {like(word)}%" for word in criteria.words]
        for key, value in criteria.filters:
            self.row_conditions.append("(' ' || search_text || ' ') LIKE %s")
            self.row_params.append(f"% {like(filter_token(key, value))} %")
        if not criteria.include_inactive:
            self.row_conditions.append("active")

    def page(self, offset: int, limit: int) -> tuple[list[int], int, bool]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"WITH hits AS MATERIALIZED (SELECT id, sort_name FROM {PROFILE_TABLE} "
                f"WHERE {PG_VECTOR} @@ %s::tsquery LIMIT %s) "
                "SELECT total.n, page.id FROM (SELECT count(*) AS n FROM hits) AS total "
                "LEFT JOIN LATERAL (SELECT id FROM hits ORDER BY sort_name, id LIMIT %s OFFSET %s) "
                "AS page ON true", [self.tsquery, COUNT_LIMIT + 1, limit, offset])
            rows = cursor.fetchall()
            count = rows[0][0]
            if count <= COUNT_LIMIT:
                return [pk for _, pk in rows if pk is not None], count, True
            ids = self._walk(cursor, offset, limit)
            if len(ids) < limit:
                ids = self._sort_all(cursor, offset, limit)
        return ids, COUNT_LIMIT, False

    def _walk(self, cursor, offset: int, limit: int) -> list[int]:
        cursor.execute(
            f"SELECT id FROM (SELECT id, sort_name, search_text, active FROM {PROFILE_TABLE} "
            "ORDER BY sort_name, id LIMIT %s) AS walked "
            f"WHERE {' AND '.join(self.row_conditions)} ORDER BY sort_name, id LIMIT %s OFFSET %s",
            [walk_rows(offset, limit), *self.row_params, limit, offset])
        return [row[0] for row in cursor.fetchall()]

    def _sort_all(self, cursor, offset: int, limit: int) -> list[int]:
        cursor.execute(
            f"WITH hits AS MATERIALIZED (SELECT id, sort_name FROM {PROFILE_TABLE} "
            f"WHERE {PG_VECTOR} @@ %s::tsquery) "
            "SELECT id FROM hits ORDER BY sort_name, id LIMIT %s OFFSET %s",
            [self.tsquery, limit, offset])
        return [row[0] for row in cursor.fetchall()]


def walk_rows(offset: int, limit: int) -> int:
    """How many rows of the name order a page may walk before sorting the matches instead.

    Walking pays when the matches are spread over the name order: at one in
    twenty people, twenty times the rows needed hold them. Bunched late (everyone
    whose first name starts with "zo"), the stretch holds too few and the
    matches are sorted instead.
    """
    return max(MIN_WALK_ROWS, 20 * (offset + limit))


def _tsquery_quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
