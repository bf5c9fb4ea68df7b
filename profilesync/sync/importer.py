"""Import one directory: read pages, map, diff against what is stored, write the difference.

The stages are separate so each can be reasoned about alone:

* :class:`KnownProfiles` answers "who do we have, and with which digest" with
  one query per page, so an unchanged entry costs a dictionary lookup and a
  hash, and remembers who was seen in a few bytes a person;
* :func:`plan_page` turns one page of entries into creates, updates and
  unchanged counts without touching the database beyond that lookup and one
  batched read of the stored values it must compare;
* :func:`write_plan` writes a page's plan in bulk (see :mod:`.writer`);
* :func:`deactivate_missing` sweeps the profiles no entry claimed, behind the
  deactivation guard.

:mod:`.passes` strings these stages into full, incremental, field-fill and
reconciliation passes; :mod:`.runner` runs each directory's passes in one
transaction, so a run that fails half-way (directory gone, guard tripped)
leaves nothing half-applied.
"""

from __future__ import annotations

import gc
import logging
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain

from django.db import connection, models
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.ldapclient.search import Page
from profilesync.profiles import person_links
from profilesync.profiles.models import Profile
from profilesync.profiles.pictures import insert_pictures, picture_name
from profilesync.profiles.search.text import SearchFields

from . import history as change_history
from .background_writes import Job, RawCursor, run_now
from .fieldmap import AttributeMap
from .mapping import entry_digest, lower_keys, map_entry
from .writer import ProfileRow, insert_rows, update_rows

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 100

# How a deactivation was found, as the report names it.
DISABLED_IN_DIRECTORY = "disabled in the directory"
MISSING_FROM_FULL_SYNC = "missing from a full sync (deleted or out of the filter)"


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)
    # Every profile this part deactivated, whatever found it, and how many each way
    # found: what the deactivation guard weighs at the end of the part.
    deactivated_pks: list[int] = field(default_factory=list)
    deactivated_by: dict[str, int] = field(default_factory=dict)
    # Where the change history of this part goes (None: not recorded, e.g. one person).
    history: change_history.ChangeLog | None = None
    _hidden_errors: int = 0

    def record_deactivated(self, pks: list[int], how: str) -> None:
        self.deactivated += len(pks)
        self.deactivated_pks.extend(pks)
        self.deactivated_by[how] = self.deactivated_by.get(how, 0) + len(pks)

    def record_error(self, dn: str, message: str) -> None:
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"dn": dn, "message": message})
        else:
            self._hidden_errors += 1

    def finish_errors(self) -> None:
        if self._hidden_errors:
            self.errors.append({"dn": "", "message": f"and {self._hidden_errors} more errors"})
            self._hidden_errors = 0


@dataclass(slots=True)
class KnownProfile:
    pk: int
    digest: str
    dn: str
    active: bool


class KnownProfiles:
    """The stored profiles of one directory, looked up a page at a time, and who was seen.

    Memory follows the page, not the directory: :meth:`prefetch` asks for the
    stored rows of one page's unique IDs (one indexed ``IN`` query) and forgets
    the previous page's. What a full pass needs afterwards, who was seen, is
    one bit per primary key (12.5 KB per 100,000 people); people created in
    this run have no key yet and are remembered by 8 bytes of a hash of their
    ID (:class:`CompactIdSet`).

    Only profiles that existed when the pass began (key at most
    :attr:`max_pk_at_start`) can be missing. A stored row with a higher key was
    created by an earlier page of this run, so a page that finds it has a
    second entry with the same ID. A first import (nothing stored) asks the
    database nothing per page.

    ``sweep`` says whether the pass will ask for :meth:`unseen_active_pks`
    (a full pass) or not (an incremental pass, a single person); the guard's
    base is counted by :mod:`.guard` when the directory's part begins.
    ``preload`` is its former name, still accepted.
    """

    def __init__(self, directory: Directory, *, sweep: bool = True, preload: bool | None = None):
        self.directory = directory
        self.by_unique_id: dict[str, KnownProfile] = {}
        stored = Profile.objects.filter(directory=directory)
        self.max_pk_at_start: int = stored.aggregate(m=models.Max("pk"))["m"] or 0
        self.sweep = sweep if preload is None else preload
        self.seen_count = 0
        self._seen_pks = bytearray()
        self._created = CompactIdSet()

    def prefetch(self, unique_ids: list[str]) -> None:
        """Load the stored rows of ``unique_ids`` (one page's), forgetting the page before."""
        self.by_unique_id = {}
        if not unique_ids or not self.max_pk_at_start:
            return  # nothing was stored when the pass began: every row found would be new
        # Plain SQL: the ORM's compiling of 1,000 IN values and building of the rows
        # took most of this lookup's time (2.5 of 6.4 s of plan_page, profiled). On
        # PostgreSQL the IDs go as one array parameter, bound on the server: quoting
        # 1,000 literals into the statement was 1.9 s of a re-sync (profiled).
        connection.ensure_connection()
        cursor = RawCursor(connection.connection, connection.vendor)
        if connection.vendor == "postgresql":
            cursor.execute(_known_query(), [self.directory.pk, unique_ids])
        else:
            cursor.execute(_known_query(len(unique_ids)), [self.directory.pk, *unique_ids])
        for uid, pk, digest, dn, active in cursor.cursor.fetchall():
            self.by_unique_id[uid] = KnownProfile(pk, digest, dn, bool(active))

    def mark_seen(self, unique_id: str) -> bool:
        """Record that an entry claims ``unique_id``; False when one already did in this run.

        Call after :meth:`prefetch` of the entry's page.
        """
        known = self.by_unique_id.get(unique_id)
        if known is None:
            if not self._created.add(unique_id):
                return False
        elif known.pk > self.max_pk_at_start:
            return False  # created by an earlier page of this run
        else:
            byte, bit = divmod(known.pk, 8)
            if byte >= len(self._seen_pks):
                self._seen_pks.extend(bytes(byte + 1 - len(self._seen_pks)))
            if self._seen_pks[byte] & (1 << bit):
                return False
            self._seen_pks[byte] |= 1 << bit
        self.seen_count += 1
        return True

    def _was_seen(self, pk: int) -> bool:
        byte, bit = divmod(pk, 8)
        return byte < len(self._seen_pks) and bool(self._seen_pks[byte] & (1 << bit))

    def unseen_active_pks(self) -> list[int]:
        """Profiles active now that existed when the pass began and no entry claimed."""
        if not self.max_pk_at_start:
            return []
        stored = (Profile.objects.filter(directory=self.directory, active=True,
                                         pk__lte=self.max_pk_at_start)
                  .values_list("pk", flat=True).order_by())
        return [pk for pk in stored.iterator(chunk_size=10_000) if not self._was_seen(pk)]


def _known_query(count: int | None = None) -> str:
    """The page lookup: ``IN`` with ``count`` parameters, or ``= ANY`` of one array."""
    quote = connection.ops.quote_name
    column = {f: quote(Profile._meta.get_field(f).column)
              for f in ("unique_id", "id", "digest", "dn", "active", "directory")}
    ids = "= ANY(%s)" if count is None else f"IN ({', '.join(['%s'] * count)})"
    return (f"SELECT {column['unique_id']}, {column['id']}, {column['digest']}, {column['dn']}, "
            f"{column['active']} FROM {quote(Profile._meta.db_table)} "
            f"WHERE {column['directory']} = %s AND {column['unique_id']} {ids}")


_UINT64 = (1 << 64) - 1


class CompactIdSet:
    """A set of unique IDs at about 8 bytes each: a sorted array of 64-bit hashes.

    For the people a first import creates, whom no primary key stands for yet;
    a set of their ID strings would grow by about 110 bytes a person. New IDs
    wait in a small set that is merged into the array when it reaches a
    quarter of the array's size, so the merges cost a few sorts of the whole.
    Two IDs with equal 64-bit hashes (about one chance in 10^8 at a million
    people) would make the second be reported as a duplicate, not lose anyone.
    """

    _MIN_TAIL = 4096

    def __init__(self) -> None:
        self._sorted = array("Q")
        self._tail: set[int] = set()

    def add(self, unique_id: str) -> bool:
        """Add ``unique_id``; False when it was there already."""
        # Python's own string hash (SipHash, 64 bits, computed in C and cached on the
        # string): salted per process, which is fine for a set that lives for one pass.
        key = hash(unique_id) & _UINT64
        if key in self._tail:
            return False
        index = bisect_left(self._sorted, key)
        if index < len(self._sorted) and self._sorted[index] == key:
            return False
        self._tail.add(key)
        if len(self._tail) >= max(self._MIN_TAIL, len(self._sorted) // 4):
            self._sorted = array("Q", sorted(chain(self._sorted, self._tail)))
            self._tail = set()
        return True


@dataclass
class PagePlan:
    creates: list[ProfileRow] = field(default_factory=list)
    updates: list[ProfileRow] = field(default_factory=list)
    # New or changed pictures by name, written with the rows (see profiles.pictures).
    pictures: dict[str, bytes] = field(default_factory=dict)
    # What changed for whom, written with the rows when ``history`` is set (see .history).
    changes: list[change_history.Change] = field(default_factory=list)
    history: change_history.ChangeLog | None = None


def plan_page(
    page: Page,
    directory: Directory,
    attribute_map: AttributeMap,
    known: KnownProfiles,
    counts: ImportCounts,
) -> PagePlan:
    """Decide for each entry of ``page``: create, update, or leave alone."""
    plan = PagePlan(history=counts.history)
    candidates: list[tuple[KnownProfile, ProfileRow]] = []
    vendor = directory.vendor_info
    now = timezone.now()
    entries = []
    for dn, raw in page:
        attributes = lower_keys(raw)
        entries.append((dn, attributes, _unique_id(attributes, attribute_map, vendor)))
    known.prefetch([unique_id for _, _, unique_id in entries if unique_id is not None])
    for dn, attributes, unique_id in entries:
        if not attributes.get(attribute_map.unique_id_attribute):
            counts.failed += 1
            counts.record_error(dn, f"entry has no {directory.unique_id_attribute} (unique ID)")
            continue
        if unique_id is None:
            counts.failed += 1
            counts.record_error(dn, f"{directory.unique_id_attribute} is not a valid unique ID")
            continue
        if not known.mark_seen(unique_id):
            counts.failed += 1
            counts.record_error(dn, f"unique ID {unique_id} was already seen in this run")
            continue
        if not attributes.get(attribute_map.username_attribute):
            counts.failed += 1
            counts.record_error(dn, f"entry has no {directory.username_attribute} (user name)")
            continue
        digest = entry_digest(attributes, attribute_map)
        active = not vendor.is_disabled(attributes)
        existing = known.by_unique_id.get(unique_id)
        if existing is not None and existing.active and not active:
            # Disabled in the directory (AD's ACCOUNTDISABLE): a deactivation like any
            # other, so the guard counts it.
            counts.record_deactivated([existing.pk], DISABLED_IN_DIRECTORY)
        if (existing is not None and existing.digest == digest and existing.dn == dn
                and existing.active == active):
            counts.unchanged += 1
            continue
        mapped = map_entry(attributes, attribute_map)
        for problem in mapped.problems:
            counts.record_error(dn, problem)
        picture = ""
        if mapped.picture:
            picture = picture_name(mapped.picture)
            plan.pictures[picture] = mapped.picture
        row = ProfileRow(
            unique_id=unique_id,
            username=mapped.username,
            dn=dn,
            display_name=mapped.display_name[:255],
            values=mapped.values,
            picture=picture,
            digest=digest,
            active=active,
            deactivated_at=None if active else now,
        )
        if existing is None:
            plan.creates.append(row)
        else:
            row.pk = existing.pk
            candidates.append((existing, row))
    _split_real_updates(candidates, plan, counts)
    counts.created += len(plan.creates)
    return plan


def _unique_id(attributes: dict[str, list[bytes]], attribute_map: AttributeMap,
               vendor) -> str | None:
    values = attributes.get(attribute_map.unique_id_attribute)
    if not values:
        return None
    try:
        return vendor.decode_unique_id(values[0])
    except (ValueError, UnicodeDecodeError):
        return None


def _split_real_updates(
    candidates: list[tuple[KnownProfile, ProfileRow]], plan: PagePlan, counts: ImportCounts
) -> None:
    """Count as updated only profiles whose stored content really differs.

    A digest can change without the profile changing (a field was added that
    this person has no value for, an attribute the mapping ignores moved), so
    the stored rows of the candidates are read in one query and compared.
    Those that only need a new digest are still written, silently.
    """
    if not candidates:
        return
    stored = {
        row[0]: row[1:]
        for row in Profile.objects.filter(pk__in=[k.pk for k, _ in candidates]).values_list(
            "pk", "username", "display_name", "values", "picture", "deactivated_at"
        )
    }
    for existing, row in candidates:
        username, display_name, values, picture, deactivated_at = stored[existing.pk]
        if not row.active and deactivated_at is not None:
            row.deactivated_at = deactivated_at
        same = (
            existing.dn == row.dn
            and existing.active == row.active
            and username == row.username
            and display_name == row.display_name
            and values == row.values
            and picture == row.picture
        )
        if same:
            counts.unchanged += 1
        else:
            if not (existing.active and not row.active):  # a deactivation, counted as such
                counts.updated += 1
            if plan.history is not None:
                plan.changes.append(change_history.updated_change(existing.dn, existing.active,
                                                           stored[existing.pk], row))
        plan.updates.append(row)


def write_plan(plan: PagePlan, directory: Directory, write: Callable[[Job], None] = run_now,
               fields: SearchFields | None = None) -> None:
    """Write a page's plan: rows are built here, statements run through ``write``.

    A full pass hands ``write`` a :class:`~.background_writes.BackgroundWrites`,
    so the statements of this page run while the next one is read, and the
    searched ``fields`` read once: read per page, they waited for the previous
    page's statements to release the connection.
    """
    now = timezone.now()
    if plan.pictures:
        pictures = plan.pictures
        write(lambda cursor: insert_pictures(cursor, pictures))
    insert_rows(plan.creates, directory.pk, now, write, fields)
    update_rows(plan.updates, now, write, fields)
    if plan.history is not None and (plan.creates or plan.changes):
        write(change_history.page_job(plan.history, [*map(change_history.created_change, plan.creates),
                                              *plan.changes], now))
    write(person_links.page_job(directory.pk, chain(plan.creates, plan.updates)))  # managers


def deactivate_missing(known: KnownProfiles, counts: ImportCounts, batch_size: int,
                       how: str = MISSING_FROM_FULL_SYNC) -> None:
    """Deactivate (never delete) profiles that no entry claimed in this full pass."""
    deactivate(known.unseen_active_pks(), counts, batch_size=batch_size, how=how)


def deactivate(missing: list[int], counts: ImportCounts, *, batch_size: int, how: str) -> None:
    """Deactivate the profiles ``missing`` and count them under ``how``.

    No guard here: every deactivation of a directory's part is weighed once,
    at its end, by :mod:`.guard`, which rolls the whole part back when it trips.
    """
    if not missing:
        return
    now = timezone.now()
    for start in range(0, len(missing), batch_size):
        chunk = missing[start:start + batch_size]
        change_history.record_deactivations(counts.history, chunk, now)
        Profile.objects.filter(pk__in=chunk).update(active=False, deactivated_at=now, updated_at=now)
    counts.record_deactivated(missing, how)


@contextmanager
def paused_garbage_collector() -> Iterator[None]:
    """Pause the cyclic collector while pages stream through.

    A page allocates thousands of small containers that the collector would
    scan over and over although none of them forms a cycle; pausing it cut
    python-ldap's decoding time by a third in RECIPES.md's measurement. Memory
    stays bounded because every page's objects are freed by reference counting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
