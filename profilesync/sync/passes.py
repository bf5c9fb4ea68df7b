"""The passes a directory's part of a run is made of, each over one :class:`DirectoryPass`.

* full: every user; creates, updates, and deactivates whoever is missing;
* incremental: only users modified at or after the watermark;
* field fill: every user, but only the attributes of fields added or remapped
  since the last run, so a new field is filled without a full sync;
* sweep of unique IDs: every user's unique ID only, to find deletions and users
  who left the filter. A reconciliation is this sweep; an incremental run makes
  it too where syncrepl is refused, so deletions never wait for the night;
* syncrepl deletions: where the directory offers RFC 4533, an incremental run
  learns deletions from it, at the cost of the changes only.

Every deactivation is counted on the pass and weighed by :mod:`.guard` once,
at the end of the part.
"""

from __future__ import annotations

from datetime import datetime

from profilesync.directories.models import Directory
from profilesync.errors import InvalidSetting
from profilesync.ldapclient.escaping import and_filter, escape_filter_chars
from profilesync.ldapclient.search import count_matches
from profilesync.ldapclient.syncrepl import offers_syncrepl, refresh_only
from profilesync.ldapclient.timestamps import format_timestamp
from profilesync.profiles.models import Profile
from profilesync.profiles.search.columns import load_search_fields

from . import history as change_history
from .background_writes import BackgroundWrites
from .directory_pass import DirectoryPass
from .errors import PatternNotUnderstood, PatternRefused
from .fieldmap import MappedField, make_attribute_map
from .importer import (
    MISSING_FROM_FULL_SYNC,
    KnownProfiles,
    deactivate_missing,
    plan_page,
    write_plan,
)
from .mapping import lower_keys, map_entry
from .writer import update_values

# Generalized time in UTC: understood by every directory measured (RECIPES.md),
# so it is the yardstick a configured pattern is checked against.
CANONICAL_PATTERN = "yyyyMMddHHmmss'Z'"

# How deactivations were found, as the report names them.
BY_ID_SWEEP = "gone from a paged search of unique IDs"
BY_RECONCILIATION = "gone from the reconciliation's search of unique IDs"
BY_SYNCREPL = "reported deleted or out of the filter by syncrepl"


def full_pass(p: DirectoryPass) -> str:
    filterstr = p.directory.effective_user_filter
    known = KnownProfiles(p.directory)
    fields = load_search_fields()
    # Page k is written on a second thread while page k+1 is read and planned.
    with BackgroundWrites() as write:
        for page in p.pages(filterstr, p.attribute_map.requested_attributes):
            write_plan(plan_page(page, p.directory, p.attribute_map, known, p.counts),
                       p.directory, write, fields)
            p.report_progress()
    deactivate_missing(known, p.counts, p.batch_size, MISSING_FROM_FULL_SYNC)
    return filterstr


def incremental_filter(directory: Directory, watermark: datetime, pattern: str | None = None) -> str:
    """``(&(user filter)(modifyTimestamp>=T))`` with T written in the directory's pattern.

    Patterns are refused when set if a literal could carry filter syntax
    (:func:`~profilesync.ldapclient.timestamps.parse_pattern`); the value is
    escaped besides, so no stored pattern can widen the search.
    """
    attribute = directory.effective_modify_timestamp_attribute
    try:
        value = format_timestamp(watermark, pattern or directory.effective_timestamp_pattern)
    except InvalidSetting as exc:
        raise PatternRefused(exc.message) from exc
    return and_filter(directory.effective_user_filter,
                      f"({attribute}>={escape_filter_chars(value)})")


def check_pattern_understood(p: DirectoryPass, watermark: datetime, sent_filter: str) -> None:
    """Raise when the configured pattern matches nothing but generalized time matches.

    Called when an incremental search came back empty: OpenLDAP answers a value
    it cannot parse (``20261127100000.+0000``) with success and no entries, so
    an empty answer alone cannot tell "no changes" from "not understood".
    """
    canonical = incremental_filter(p.directory, watermark, CANONICAL_PATTERN)
    if canonical == sent_filter:
        return
    if count_matches(p.conn, p.directory.search_base, canonical):
        raise PatternNotUnderstood(p.directory.timestamp_pattern, sent_filter, canonical)


def incremental_pass(p: DirectoryPass, watermark: datetime, filterstr: str | None = None) -> str:
    """Read and apply the users changed since ``watermark``, or matching ``filterstr``.

    ``filterstr`` replaces the time filter when changes are found otherwise
    (Active Directory by ``uSNChanged``, see :mod:`.usn`); an empty answer to
    it needs no pattern check.
    """
    by_time = filterstr is None
    if filterstr is None:
        filterstr = incremental_filter(p.directory, watermark)
    known = KnownProfiles(p.directory, sweep=False)
    seen_any = False
    for page in p.pages(filterstr, p.attribute_map.requested_attributes):
        seen_any = True
        write_plan(plan_page(page, p.directory, p.attribute_map, known, p.counts), p.directory)
        p.report_progress()
    if not seen_any and by_time:
        check_pattern_understood(p, watermark, filterstr)
    return filterstr


def new_field_mappings(p: DirectoryPass, filled: list[str] | None) -> list[MappedField]:
    """Fields whose key, type or attribute is not among those every profile was filled with."""
    done = set(filled or [])
    return [f for f in p.attribute_map.fields if field_mapping_id(f) not in done]


def field_mapping_id(mapped: MappedField) -> str:
    return f"{mapped.key}:{mapped.type}:{mapped.attribute}"


def field_fill_pass(p: DirectoryPass, fields: list[MappedField]) -> None:
    """Fetch only ``fields``' attributes for every user and store those values.

    Profiles touched get an empty digest: their stored digest described the
    old mapping, and the next full pass will recompute it after comparing.
    """
    fill_map = make_attribute_map(
        fields,
        unique_id_attribute=p.attribute_map.unique_id_attribute,
        username_attribute=p.attribute_map.username_attribute,
    )
    vendor = p.directory.vendor_info
    attributes = [p.attribute_map.unique_id_attribute, *{f.attribute for f in fields}]
    keys = [f.key for f in fields]
    for page in p.pages(p.directory.effective_user_filter, attributes):
        by_id: dict[str, dict] = {}
        for _dn, raw in page:
            entry = lower_keys(raw)
            id_values = entry.get(p.attribute_map.unique_id_attribute)
            if not id_values:
                continue
            try:
                by_id[vendor.decode_unique_id(id_values[0])] = map_entry(entry, fill_map).values
            except (ValueError, UnicodeDecodeError):
                continue
        stored = Profile.objects.filter(directory=p.directory,
                                        unique_id__in=list(by_id)).values_list(
            "pk", "unique_id", "values", "username")
        changed: list[tuple[int, dict]] = []
        noted: list[change_history.Change] = []
        for pk, unique_id, values, username in stored:
            fresh = by_id[unique_id]
            merged = {k: v for k, v in values.items() if k not in keys}
            merged.update({k: fresh[k] for k in keys if k in fresh})
            if merged != values:
                changed.append((pk, merged))
                noted.append(change_history.Change(unique_id, username, "update",
                                                   change_history.value_changes(values, merged)))
        update_values(changed)
        change_history.record_changes(p.counts.history, noted)
        p.counts.updated += len(changed)


def present_unique_ids(p: DirectoryPass) -> set[str]:
    """Every user's unique ID, by a paged search asking for that one attribute only.

    Measured at 100,000 users in bench/incremental_sync.py (docs/performance.md):
    the sweep costs little more than ``ldapsearch -E pr`` of the same search,
    because nothing but one short value per entry crosses the wire and is decoded.
    """
    wanted = p.attribute_map.unique_id_attribute
    decode = p.directory.vendor_info.decode_unique_id
    present: set[str] = set()
    for page in p.pages(p.directory.effective_user_filter, [wanted]):
        for _dn, raw in page:
            # One attribute was asked for; the server spells its name its own way.
            for values in raw.values():
                if values:
                    try:
                        present.add(decode(values[0]))
                    except (ValueError, UnicodeDecodeError):
                        pass
                break
    return present


def id_sweep_pass(p: DirectoryPass, how: str = BY_ID_SWEEP) -> int:
    """Deactivate active profiles whose unique ID the directory no longer lists; return how
    many users it lists (entries deleted, moved out of the search base, or out of the filter)."""
    present = present_unique_ids(p)
    active = (Profile.objects.filter(directory=p.directory, active=True)
              .values_list("unique_id", "pk").order_by())
    gone = [pk for unique_id, pk in active.iterator(chunk_size=10_000) if unique_id not in present]
    p.deactivate(gone, how)
    return len(present)


def reconciliation_pass(p: DirectoryPass) -> str:
    """Deactivate profiles whose entries are gone or no longer match the filter."""
    p.counts.unchanged = id_sweep_pass(p, BY_RECONCILIATION)
    return p.directory.effective_user_filter


def syncrepl_usable(directory: Directory, root_dse: dict[str, list[bytes]]) -> bool:
    """Whether deletions can come from syncrepl: offered, and profiles keyed by entryUUID."""
    return (directory.effective_unique_id_attribute.lower() == "entryuuid"
            and offers_syncrepl(root_dse))


def syncrepl_deletion_pass(p: DirectoryPass, cookie: bytes | None) -> bytes | None:
    """Deactivate the profiles whose entries syncrepl reports gone; return the new cookie.

    With a cookie the server lists deletions (and entries that left the
    filter) since the last refresh, so only those IDs are looked up. Without
    one, or past the server's session log, it names everyone present and the
    rest of the directory's active profiles are gone: a reconciliation.
    """
    directory = p.directory
    refresh = refresh_only(p.conn, directory.search_base, directory.effective_user_filter, cookie)
    active_profiles = Profile.objects.filter(directory=directory, active=True)
    if refresh.present is None:
        if refresh.deleted:
            gone = list(active_profiles.filter(unique_id__in=list(refresh.deleted))
                        .values_list("pk", flat=True))
            p.deactivate(gone, BY_SYNCREPL)
        return refresh.cookie
    by_id = dict(active_profiles.values_list("unique_id", "pk"))
    gone_ids = refresh.gone(set(by_id))
    p.deactivate([by_id[uid] for uid in gone_ids], BY_SYNCREPL)
    return refresh.cookie
