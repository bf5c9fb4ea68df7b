"""Incremental sync of Active Directory by ``uSNChanged`` on one domain controller.

Why not ``whenChanged``: it is not replicated (each DC stamps it with its own
clock when it applies a change), it has one-second granularity, and it moves
with any DC's clock. ``uSNChanged`` is exact and cannot go backwards on one DC;
it only means something on the DC that numbered it (see
:mod:`profilesync.ldapclient.usn`). So the watermark is the DC's
``highestCommittedUSN`` read before the run reads anything, stored with the
DC's identity, and the next run asks that DC for ``(uSNChanged>=stored+1)``.

The choice, per run of an Active Directory directory, is automatic and the
report says which was made:

* ``PROFILESYNC_AD_CHANGE_TRACKING=usn`` (the default) and the DC publishes
  ``highestCommittedUSN``: by USN;
* the same DC (or a restored one: new ``invocationId``) is not the one that
  numbered the stored USN: a full sync, with the reason;
* no USN stored yet (first run after an upgrade, or an administrator set "Last
  LDAP sync date" to re-read from a date): this run goes by ``whenChanged``
  from the time watermark, and stores the USN for the next one;
* ``PROFILESYNC_AD_CHANGE_TRACKING=timestamp``: always by ``whenChanged``.

Other vendors are untouched: by modification time, as before.

Deletions on AD come from the deleted-objects search
(:mod:`profilesync.ldapclient.deleted_objects`), bounded by the same watermark.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import Connection
from profilesync.ldapclient.deleted_objects import (
    DeletedObjectsUnavailable,
    deleted_ids,
    offers_show_deleted,
)
from profilesync.ldapclient.escaping import and_filter
from profilesync.ldapclient.rootdse import naming_context_of
from profilesync.ldapclient.timestamps import format_timestamp
from profilesync.ldapclient.usn import (
    DomainControllerIdentity,
    UsnReading,
    changed_since_filter,
    read_usn,
)
from profilesync.profiles.models import Profile

from .directory_pass import DirectoryPass
from .models import DirectorySyncState, SyncMode

BY_DELETED_OBJECTS = "deleted in Active Directory (deleted-objects search)"

TRACK_BY_USN = "usn"
TRACK_BY_TIMESTAMP = "timestamp"  # settings.py refuses any other value at start


@dataclass(frozen=True)
class ChangeTracking:
    """How this run of one directory finds changes.

    ``reading`` is the DC's USN taken before the run read anything (None: not
    tracked by USN at all); ``since_usn`` the stored USN this run reads after
    (None: by time this run); ``full_sync_reason`` is set when an incremental
    run must read everyone instead; ``note`` is the report line.
    """

    reading: UsnReading | None = None
    since_usn: int | None = None
    full_sync_reason: str = ""
    note: str = ""
    by_usn: bool = False  # USN tracking is on for this directory (whatever this run does)

    def report_line(self, mode: str) -> str:
        """What the report says about finding changes in a run of ``mode``."""
        if mode == SyncMode.RECONCILIATION:
            return ""
        if self.full_sync_reason:
            return self.full_sync_reason
        if mode == SyncMode.FULL and self.by_usn and self.reading is not None:
            return (f"full sync; stored USN {self.reading.highest_committed_usn} of "
                    f"{self.reading.identity.describe()} for the next incremental run")
        return self.note


def tracks_by_usn(directory: Directory) -> bool:
    """Whether incremental runs of ``directory`` go by uSNChanged when the DC allows."""
    return (directory.vendor_info.update_sequence_numbers
            and settings.PROFILESYNC_AD_CHANGE_TRACKING == TRACK_BY_USN)


def plan_change_tracking(conn: Connection, directory: Directory, state: DirectorySyncState,
                         root_dse: dict[str, list[bytes]]) -> ChangeTracking:
    """Decide how this run finds changes; ``root_dse`` was read before anything else."""
    if not directory.vendor_info.update_sequence_numbers:
        return ChangeTracking()
    reading = read_usn(conn, root_dse)
    if settings.PROFILESYNC_AD_CHANGE_TRACKING == TRACK_BY_TIMESTAMP:
        # The USN is still kept, so switching back to "usn" needs no full sync.
        return ChangeTracking(reading, note="by whenChanged (PROFILESYNC_AD_CHANGE_TRACKING=timestamp)")
    if reading is None:
        return ChangeTracking(note="by whenChanged: the server publishes no highestCommittedUSN "
                                   "or dsServiceName in its root DSE")
    here = reading.identity
    if state.usn_watermark is None:
        return ChangeTracking(reading, by_usn=True, note=(
            f"by whenChanged this time (no USN stored yet); stored USN "
            f"{reading.highest_committed_usn} of {here.describe()} for the next run"))
    stored = DomainControllerIdentity(state.usn_server_dn, state.usn_invocation_id)
    if not stored.same_as(here):
        return ChangeTracking(reading, by_usn=True, full_sync_reason=(
            f"full sync: the stored USN {state.usn_watermark} was numbered by "
            f"{stored.describe()}, this connection reached {here.describe()}; USNs of another "
            f"domain controller, or of one restored from a backup, cannot be compared"))
    return ChangeTracking(reading, since_usn=state.usn_watermark, by_usn=True, note=(
        f"by uSNChanged > {state.usn_watermark} on {here.describe()}"))


def remember(state: DirectorySyncState, tracking: ChangeTracking) -> None:
    """Keep the USN read before this run, for the next (saved with the run's transaction)."""
    if tracking.reading is None:
        return
    state.usn_watermark = tracking.reading.highest_committed_usn
    state.usn_server_dn = tracking.reading.identity.server_dn
    state.usn_invocation_id = tracking.reading.identity.invocation_id


def forget(state: DirectorySyncState) -> None:
    """Drop the USN watermark, so the next AD run goes by the time watermark once."""
    state.usn_watermark = None
    state.usn_server_dn = ""
    state.usn_invocation_id = ""


def usn_incremental_filter(directory: Directory, since_usn: int) -> str:
    """``(&(user filter)(uSNChanged>=N+1))``."""
    return and_filter(directory.effective_user_filter, changed_since_filter(since_usn))


def deletions_usable(directory: Directory, root_dse: dict[str, list[bytes]]) -> bool:
    """Deleted objects can be matched to profiles: AD offering Show Deleted, profiles by GUID."""
    unique_id = directory.effective_unique_id_attribute
    return unique_id.lower() == "objectguid" and offers_show_deleted(root_dse)


def deletion_since_filter(directory: Directory, tracking: ChangeTracking,
                          watermark: datetime) -> str:
    """The lower bound of deletions this run looks for: the same one as for changes."""
    if tracking.since_usn is not None:
        return changed_since_filter(tracking.since_usn)
    pattern = directory.effective_timestamp_pattern
    return f"(whenChanged>={format_timestamp(watermark, pattern)})"


def deleted_objects_pass(p: DirectoryPass, root_dse: dict[str, list[bytes]],
                         since_filter: str) -> str:
    """Deactivate the profiles whose entries were deleted since ``since_filter``.

    Returns the report line. Raises :class:`DeletedObjectsUnavailable` when
    the search cannot be made; the caller then sweeps unique IDs instead.
    Counted by the deactivation guard like every other deactivation.
    """
    directory = p.directory
    context = naming_context_of(directory.search_base, root_dse)
    if context is None:
        raise DeletedObjectsUnavailable(
            f"no naming context of the server holds the search base {directory.search_base!r}")
    vendor = directory.vendor_info
    gone_ids: set[str] = set()
    for page in deleted_ids(p.conn, context, since_filter, page_size=p.page_size):
        for raw in page:
            try:
                gone_ids.add(vendor.decode_unique_id(raw))
            except (ValueError, UnicodeDecodeError):
                continue
    active_profiles = Profile.objects.filter(directory=directory, active=True)
    gone: list[int] = []
    wanted = sorted(gone_ids)
    for start in range(0, len(wanted), p.batch_size):
        chunk = wanted[start:start + p.batch_size]
        gone.extend(active_profiles.filter(unique_id__in=chunk).values_list("pk", flat=True))
    p.deactivate(gone, BY_DELETED_OBJECTS)
    return f"deleted-objects search (Show Deleted control) with {since_filter}"
