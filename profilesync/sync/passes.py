"""The passes a directory's part of a run is made of, each over one open connection.

* full: every user; creates, updates, and deactivates whoever is missing;
* incremental: only users modified at or after the watermark;
* field fill: every user, but only the attributes of fields added or remapped
  since the last run, so a new field is filled without a full sync;
* reconciliation: every user's unique ID only, to find deletions and users who
  left the filter, behind the same deactivation guard as the full pass;
* syncrepl deletions: where the directory offers RFC 4533, an incremental run
  also learns deletions from it, at the cost of the changes only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import ldap
from ldap.ldapobject import LDAPObject

from profilesync.directories.models import Directory
from profilesync.ldapclient.escaping import and_filter
from profilesync.ldapclient.range_retrieval import complete_page
from profilesync.ldapclient.search import paged_search
from profilesync.ldapclient.syncrepl import offers_syncrepl, refresh_only
from profilesync.ldapclient.timestamps import format_timestamp
from profilesync.profiles.models import Profile
from profilesync.profiles.search.columns import load_search_fields

from .background_writes import BackgroundWrites
from .errors import PatternNotUnderstood
from .fieldmap import AttributeMap, MappedField, make_attribute_map
from .importer import (
    ImportCounts,
    KnownProfiles,
    deactivate,
    deactivate_missing,
    plan_page,
    write_plan,
)
from .mapping import lower_keys, map_entry
from .writer import update_values

ProgressCallback = Callable[[ImportCounts], None]

# Generalized time in UTC: understood by every directory measured (RECIPES.md),
# so it is the yardstick a configured pattern is checked against.
CANONICAL_PATTERN = "yyyyMMddHHmmss'Z'"


def _pages(conn: LDAPObject, directory: Directory, filterstr: str, attributes: list[str]):
    pages = paged_search(conn, directory.search_base, filterstr, attributes,
                         page_size=directory.page_size)
    if not directory.vendor_info.ranged_values:
        return pages
    # AD sends a large multi-valued attribute in slices (member;range=0-1499): read them all
    # before the digest and the mapping see the entry.
    return (complete_page(conn, page) for page in pages)


def full_pass(conn: LDAPObject, directory: Directory, attribute_map: AttributeMap,
              counts: ImportCounts, *, force: bool, batch_size: int,
              progress: ProgressCallback | None = None) -> str:
    filterstr = directory.effective_user_filter
    known = KnownProfiles(directory)
    fields = load_search_fields()
    # Page k is written on a second thread while page k+1 is read and planned.
    with BackgroundWrites() as write:
        for page in _pages(conn, directory, filterstr, attribute_map.requested_attributes):
            write_plan(plan_page(page, directory, attribute_map, known, counts), directory, write,
                       fields)
            if progress is not None:
                progress(counts)
    deactivate_missing(directory, known, counts, force, batch_size)
    return filterstr


def incremental_filter(directory: Directory, watermark: datetime, pattern: str | None = None) -> str:
    """``(&(user filter)(modifyTimestamp>=T))`` with T written in the directory's pattern."""
    attribute = directory.modify_timestamp_attribute or directory.vendor_info.modify_timestamp_attribute
    value = format_timestamp(watermark, pattern or directory.timestamp_pattern
                             or directory.vendor_info.timestamp_pattern)
    return and_filter(directory.effective_user_filter, f"({attribute}>={value})")


def count_matches(conn: LDAPObject, directory: Directory, filterstr: str, limit: int = 1) -> int:
    """How many entries match, up to ``limit`` (a size-limited probe, not a full read)."""
    try:
        msgid = conn.search_ext(directory.search_base, ldap.SCOPE_SUBTREE, filterstr, ["1.1"],
                                sizelimit=limit)
        _, data, _, _ = conn.result3(msgid)
    except ldap.SIZELIMIT_EXCEEDED:
        return limit
    return sum(1 for dn, _ in data if dn is not None)


def check_pattern_understood(conn: LDAPObject, directory: Directory, watermark: datetime,
                             sent_filter: str) -> None:
    """Raise when the configured pattern matches nothing but generalized time matches.

    Called when an incremental search came back empty: OpenLDAP answers a value
    it cannot parse (``20261127100000.+0000``) with success and no entries, so
    an empty answer alone cannot tell "no changes" from "not understood".
    """
    canonical = incremental_filter(directory, watermark, CANONICAL_PATTERN)
    if canonical == sent_filter:
        return
    if count_matches(conn, directory, canonical):
        raise PatternNotUnderstood(directory.timestamp_pattern, sent_filter, canonical)


def incremental_pass(conn: LDAPObject, directory: Directory, attribute_map: AttributeMap,
                     counts: ImportCounts, watermark: datetime,
                     progress: ProgressCallback | None = None, filterstr: str | None = None) -> str:
    """Read and apply the users changed since ``watermark``, or matching ``filterstr``.

    ``filterstr`` replaces the time filter when changes are found otherwise
    (Active Directory by ``uSNChanged``, see :mod:`.usn`); an empty answer to
    it needs no pattern check.
    """
    by_time = filterstr is None
    if filterstr is None:
        filterstr = incremental_filter(directory, watermark)
    known = KnownProfiles(directory, sweep=False)
    seen_any = False
    for page in _pages(conn, directory, filterstr, attribute_map.requested_attributes):
        seen_any = True
        write_plan(plan_page(page, directory, attribute_map, known, counts), directory)
        if progress is not None:
            progress(counts)
    if not seen_any and by_time:
        check_pattern_understood(conn, directory, watermark, filterstr)
    return filterstr


def new_field_mappings(attribute_map: AttributeMap, filled: list[str] | None) -> list[MappedField]:
    """Fields whose key, type or attribute is not among those every profile was filled with."""
    done = set(filled or [])
    return [f for f in attribute_map.fields if field_mapping_id(f) not in done]


def field_mapping_id(mapped: MappedField) -> str:
    return f"{mapped.key}:{mapped.type}:{mapped.attribute}"


def field_fill_pass(conn: LDAPObject, directory: Directory, attribute_map: AttributeMap,
                    fields: list[MappedField], counts: ImportCounts) -> None:
    """Fetch only ``fields``' attributes for every user and store those values.

    Profiles touched get an empty digest: their stored digest described the
    old mapping, and the next full pass will recompute it after comparing.
    """
    fill_map = make_attribute_map(
        fields,
        unique_id_attribute=attribute_map.unique_id_attribute,
        username_attribute=attribute_map.username_attribute,
    )
    vendor = directory.vendor_info
    attributes = [attribute_map.unique_id_attribute, *{f.attribute for f in fields}]
    keys = [f.key for f in fields]
    for page in _pages(conn, directory, directory.effective_user_filter, attributes):
        by_id: dict[str, dict] = {}
        for _dn, raw in page:
            entry = lower_keys(raw)
            id_values = entry.get(attribute_map.unique_id_attribute)
            if not id_values:
                continue
            try:
                by_id[vendor.decode_unique_id(id_values[0])] = map_entry(entry, fill_map).values
            except (ValueError, UnicodeDecodeError):
                continue
        stored = Profile.objects.filter(directory=directory, unique_id__in=list(by_id)).values_list(
            "pk", "unique_id", "values")
        changed: list[tuple[int, dict]] = []
        for pk, unique_id, values in stored:
            fresh = by_id[unique_id]
            merged = {k: v for k, v in values.items() if k not in keys}
            merged.update({k: fresh[k] for k in keys if k in fresh})
            if merged != values:
                changed.append((pk, merged))
        update_values(changed)
        counts.updated += len(changed)


def reconciliation_pass(conn: LDAPObject, directory: Directory, attribute_map: AttributeMap,
                        counts: ImportCounts, *, force: bool, batch_size: int) -> str:
    """Deactivate profiles whose entries are gone or no longer match the filter."""
    filterstr = directory.effective_user_filter
    known = KnownProfiles(directory)
    vendor = directory.vendor_info
    for page in _pages(conn, directory, filterstr, [attribute_map.unique_id_attribute]):
        unique_ids = []
        for _dn, raw in page:
            entry = lower_keys(raw)
            id_values = entry.get(attribute_map.unique_id_attribute)
            if id_values:
                try:
                    unique_ids.append(vendor.decode_unique_id(id_values[0]))
                except (ValueError, UnicodeDecodeError):
                    continue
        known.prefetch(unique_ids)
        for unique_id in unique_ids:
            known.mark_seen(unique_id)
    counts.unchanged = known.seen_count
    deactivate_missing(directory, known, counts, force, batch_size)
    return filterstr


def syncrepl_usable(directory: Directory, root_dse: dict[str, list[bytes]]) -> bool:
    """Whether deletions can come from syncrepl: offered, and profiles keyed by entryUUID."""
    unique_id = directory.unique_id_attribute or directory.vendor_info.unique_id_attribute
    return unique_id.lower() == "entryuuid" and offers_syncrepl(root_dse)


def syncrepl_deletion_pass(conn: LDAPObject, directory: Directory, cookie: bytes | None,
                           counts: ImportCounts, *, force: bool, batch_size: int) -> bytes | None:
    """Deactivate the profiles whose entries syncrepl reports gone; return the new cookie.

    With a cookie the server lists deletions (and entries that left the
    filter) since the last refresh, so only those IDs are looked up. Without
    one, or past the server's session log, it names everyone present and the
    rest of the directory's active profiles are gone: a reconciliation.
    """
    refresh = refresh_only(conn, directory.search_base, directory.effective_user_filter, cookie)
    active_profiles = Profile.objects.filter(directory=directory, active=True)
    if refresh.present is None:
        if refresh.deleted:
            gone = list(active_profiles.filter(unique_id__in=list(refresh.deleted))
                        .values_list("pk", flat=True))
            deactivate(directory, gone, active_profiles.count(), counts,
                       force=force, batch_size=batch_size)
        return refresh.cookie
    by_id = dict(active_profiles.values_list("unique_id", "pk"))
    gone_ids = refresh.gone(set(by_id))
    deactivate(directory, [by_id[uid] for uid in gone_ids], len(by_id), counts,
               force=force, batch_size=batch_size)
    return refresh.cookie
