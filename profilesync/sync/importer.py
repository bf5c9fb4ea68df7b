"""Import one directory: read pages, map, diff against what is stored, write the difference.

The stages are separate so each can be reasoned about alone:

* :class:`KnownProfiles` answers "who do we have, and with which digest" from
  one query, so an unchanged entry costs a dictionary lookup and a hash;
* :func:`plan_page` turns one page of entries into creates, updates and
  unchanged counts without touching the database beyond one batched read of
  the stored values it must compare;
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.ldapclient.search import Page
from profilesync.profiles.models import Profile
from profilesync.profiles.pictures import store_picture

from .errors import DeactivationGuardTripped
from .fieldmap import AttributeMap
from .mapping import entry_digest, lower_keys, map_entry
from .writer import ProfileRow, insert_rows, update_rows

log = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 100


@dataclass
class ImportCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    failed: int = 0
    errors: list[dict] = field(default_factory=list)
    _hidden_errors: int = 0

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
    """The stored profiles of one directory, keyed by unique ID, plus who was seen.

    A full pass loads the whole index once (one query; it needs every ID to
    find who is missing). An incremental pass sees few entries, so with
    ``preload=False`` it asks only for the IDs of each page, keeping its cost
    proportional to the changes, not to the directory.
    """

    def __init__(self, directory: Directory, *, preload: bool = True):
        self.directory = directory
        self.preloaded = preload
        self.by_unique_id: dict[str, KnownProfile] = {}
        self.seen: set[str] = set()
        if preload:
            self._load(Profile.objects.filter(directory=directory))

    def _load(self, queryset) -> None:
        rows = queryset.values_list("unique_id", "pk", "digest", "dn", "active")
        for uid, pk, digest, dn, active in rows:
            self.by_unique_id[uid] = KnownProfile(pk, digest, dn, active)

    def prefetch(self, unique_ids: list[str]) -> None:
        """Make sure the given IDs are loaded (a no-op for a preloaded index)."""
        if self.preloaded or not unique_ids:
            return
        missing = [uid for uid in unique_ids if uid not in self.by_unique_id]
        if missing:
            self._load(Profile.objects.filter(directory=self.directory, unique_id__in=missing))

    @property
    def active_count(self) -> int:
        return sum(1 for known in self.by_unique_id.values() if known.active)

    def unseen_active_pks(self) -> list[int]:
        return [k.pk for uid, k in self.by_unique_id.items() if k.active and uid not in self.seen]


@dataclass
class PagePlan:
    creates: list[ProfileRow] = field(default_factory=list)
    updates: list[ProfileRow] = field(default_factory=list)


def plan_page(
    page: Page,
    directory: Directory,
    attribute_map: AttributeMap,
    known: KnownProfiles,
    counts: ImportCounts,
) -> PagePlan:
    """Decide for each entry of ``page``: create, update, or leave alone."""
    plan = PagePlan()
    candidates: list[tuple[KnownProfile, ProfileRow]] = []
    vendor = directory.vendor_info
    now = timezone.now()
    entries = [(dn, lower_keys(raw)) for dn, raw in page]
    if not known.preloaded:
        known.prefetch([uid for _, attributes in entries
                        if (uid := _unique_id(attributes, attribute_map, vendor)) is not None])
    for dn, attributes in entries:
        if not attributes.get(attribute_map.unique_id_attribute):
            counts.failed += 1
            counts.record_error(dn, f"entry has no {directory.unique_id_attribute} (unique ID)")
            continue
        unique_id = _unique_id(attributes, attribute_map, vendor)
        if unique_id is None:
            counts.failed += 1
            counts.record_error(dn, f"{directory.unique_id_attribute} is not a valid unique ID")
            continue
        if unique_id in known.seen:
            counts.failed += 1
            counts.record_error(dn, f"unique ID {unique_id} was already seen in this run")
            continue
        known.seen.add(unique_id)
        if not attributes.get(attribute_map.username_attribute):
            counts.failed += 1
            counts.record_error(dn, f"entry has no {directory.username_attribute} (user name)")
            continue
        digest = entry_digest(attributes, attribute_map)
        active = not vendor.is_disabled(attributes)
        existing = known.by_unique_id.get(unique_id)
        if (existing is not None and existing.digest == digest and existing.dn == dn
                and existing.active == active):
            counts.unchanged += 1
            continue
        mapped = map_entry(attributes, attribute_map)
        for problem in mapped.problems:
            counts.record_error(dn, problem)
        row = ProfileRow(
            unique_id=unique_id,
            username=mapped.username,
            dn=dn,
            display_name=mapped.display_name[:255],
            values=mapped.values,
            picture=store_picture(mapped.picture) if mapped.picture else "",
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
            counts.updated += 1
        plan.updates.append(row)


def write_plan(plan: PagePlan, directory: Directory) -> None:
    now = timezone.now()
    insert_rows(plan.creates, directory.pk, now)
    update_rows(plan.updates, now)


def deactivate_missing(
    directory: Directory, known: KnownProfiles, counts: ImportCounts, force: bool, batch_size: int
) -> None:
    """Deactivate (never delete) profiles that no entry claimed in this full pass."""
    deactivate(directory, known.unseen_active_pks(), known.active_count, counts,
               force=force, batch_size=batch_size)


def deactivate(directory: Directory, missing: list[int], active: int, counts: ImportCounts, *,
               force: bool, batch_size: int) -> None:
    """Deactivate the profiles ``missing`` of ``active`` ones, behind the deactivation guard."""
    if not missing:
        return
    if not force and len(missing) > directory.max_deactivate_share * active:
        raise DeactivationGuardTripped(len(missing), active, directory.max_deactivate_share)
    now = timezone.now()
    for start in range(0, len(missing), batch_size):
        chunk = missing[start:start + batch_size]
        Profile.objects.filter(pk__in=chunk).update(active=False, deactivated_at=now, updated_at=now)
    counts.deactivated += len(missing)


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
