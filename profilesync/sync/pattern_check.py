"""Ask a directory whether it understands its timestamp pattern, and preview filters.

"Understood" is decided by comparison: the same instant written with the
configured pattern and in plain generalized time must match the same entries.
A directory that matches some with generalized time and none with the pattern
silently ignores the pattern (OpenLDAP does this with ``yyyyMMddHHmmss.Z``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.search import count_matches

from . import usn
from .models import DataSourceSettings, DirectorySyncState, SyncMode
from .passes import CANONICAL_PATTERN, incremental_filter

# An instant before any directory entry we could meet: every entry is modified
# after it, so generalized time matches all of them and the comparison speaks.
PROBE_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
PROBE_LIMIT = 10


@dataclass(frozen=True)
class PatternCheck:
    directory: str
    pattern: str
    filter: str
    matches: int
    canonical_filter: str
    canonical_matches: int
    understood: bool | None
    message: str

    @property
    def ok(self) -> bool:
        """The pattern is understood (like ``ok`` of `directory test` and `test-write`)."""
        return self.understood is True

    def as_json(self) -> dict:
        return {"ok": self.ok, **asdict(self)}


def check_pattern(directory: Directory, instant: datetime | None = None) -> PatternCheck:
    """Compare matches of the configured pattern and of generalized time at one instant.

    Raises :class:`~profilesync.ldapclient.errors.DirectoryError` when the
    directory cannot be asked at all.
    """
    instant = instant or PROBE_INSTANT
    sent = incremental_filter(directory, instant)
    canonical = incremental_filter(directory, instant, CANONICAL_PATTERN)
    with connected(directory.connection_settings()) as conn:
        matches = count_matches(conn, directory.search_base, sent, PROBE_LIMIT)
        canonical_matches = (matches if canonical == sent
                             else count_matches(conn, directory.search_base, canonical, PROBE_LIMIT))
    pattern = directory.timestamp_pattern
    if canonical_matches == 0:
        understood, message = None, (
            "cannot tell: no user matches even in generalized time; check the user filter "
            "and the base DN")
    elif matches == 0:
        understood, message = False, (
            f"not understood: {sent} matches no users while {canonical} matches some; "
            "an incremental run with this pattern would import nothing. Use a pattern "
            "the directory understands, e.g. yyyyMMddHHmmssZ")
    else:
        understood, message = True, f"understood: {sent} matches users"
    return PatternCheck(directory.name, pattern, sent, matches, canonical, canonical_matches,
                        understood, message)


def preview_next_run(directory: Directory) -> tuple[str, str]:
    """(mode, filter) the next automatic run will use for ``directory``.

    An Active Directory with a stored USN is previewed by ``uSNChanged``, as the
    next run will ask if the same domain controller answers (see :mod:`.usn`).
    """
    incremental = DataSourceSettings.load().incremental_sync
    state = DirectorySyncState.objects.filter(directory=directory).first()
    if incremental and state is not None and state.watermark is not None:
        if usn.tracks_by_usn(directory) and state.usn_watermark is not None:
            return SyncMode.INCREMENTAL, usn.usn_incremental_filter(directory, state.usn_watermark)
        return SyncMode.INCREMENTAL, incremental_filter(directory, state.watermark)
    return SyncMode.FULL, directory.effective_user_filter


def next_run_reason(directory: Directory) -> str:
    """Why the next automatic run of ``directory`` is full when incremental sync is on, or ""."""
    if not DataSourceSettings.load().incremental_sync:
        return ""
    state = DirectorySyncState.objects.filter(directory=directory).first()
    if state is None or (state.watermark is None and state.last_success_at is None):
        return "first import: full"
    if state.watermark is None:
        return "the Last LDAP sync date is empty"
    return ""
