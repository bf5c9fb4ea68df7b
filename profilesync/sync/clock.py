"""Where a run's watermark comes from: the directory's clock, not ours.

An incremental run asks for entries modified at or after the watermark, so the
watermark must be a time on the directory's clock taken *before* the run reads
anything: then a change made while the run is reading has a later
modification time and is found by the next run, and no skew between this
server's clock and the directory's can hide a change. We ask the directory
(``ldapclient.server_clock`` reads what it offers):

* Active Directory (and Samba) publish ``currentTime`` in the root DSE;
* OpenLDAP with syncprov keeps ``contextCSN`` on the naming context: per server
  ID (provider), the time of the latest change from that provider this server
  has seen. With one value, every later write has a time at or after it. With
  several (multi-provider replication) we take the **oldest**: a change that a
  provider made while this server could not hear from it reaches this server
  late, carrying its older ``modifyTimestamp``; it is older than no value but
  that provider's own, which this server advances only when the change arrives.
  The newest value would pass it for good;
* a server with neither gets this server's clock minus a safety margin
  (``PROFILESYNC_CLOCK_SKEW_MARGIN_SECONDS``), and the report says so.

The clock is always that of the server the run reads from. When that is not the
directory's first URL (the first did not answer, a replica served the run), the
report says so: a lagging replica's oldest contextCSN is older than the changes
it has not received yet, so they are read once it has.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from profilesync.ldapclient.server_clock import (
    ChangeSequenceNumber,
    Connection,
    ServerClock,
    read_server_clock,
)

# DirectoryRunResult.watermark_source holds at most this many characters.
SOURCE_LENGTH = 200
# A server ID whose latest change is this much older than the newest is named in the report.
STALE_SERVER = timedelta(days=1)


def application_now() -> datetime:
    """This server's clock. Tests replace it to simulate skew."""
    return timezone.now()


@dataclass(frozen=True)
class DirectoryTime:
    moment: datetime
    source: str  # for the report: which clock, and which server it was read from
    served_by: str = ""  # the URL that served the run
    failed_over: bool = False  # True when that is not the directory's first URL


def oldest_per_server(csns: Sequence[ChangeSequenceNumber]) -> ChangeSequenceNumber | None:
    """The oldest of the servers' latest CSNs: no change still on its way is older than it."""
    latest: dict[int, ChangeSequenceNumber] = {}
    for csn in csns:
        if csn.server_id not in latest or csn.time > latest[csn.server_id].time:
            latest[csn.server_id] = csn
    if not latest:
        return None
    return min(latest.values(), key=lambda csn: csn.time)


def directory_now(conn: Connection, search_base: str,
                  root_dse: dict[str, list[bytes]] | None = None, *,
                  urls: Sequence[str] = ()) -> DirectoryTime:
    """The directory's idea of "now" (or of its latest write everyone has), to the second.

    ``urls`` are the directory's configured URLs in order; when the run is
    served by another than the first, the source says so.
    """
    return watermark_from(read_server_clock(conn, search_base, root_dse), urls)


def watermark_from(clock: ServerClock, urls: Sequence[str] = ()) -> DirectoryTime:
    """Apply the watermark rule to a server's clock readings."""
    failed_over = bool(urls) and bool(clock.url) and not _same_server(clock.url, urls[0])
    served = (f"served by {clock.url}, not the first URL {urls[0]} (it did not answer): "
              if failed_over else "")
    if clock.current_time is not None:
        return _time(clock.current_time, served + "directory currentTime", clock, failed_over)
    oldest = oldest_per_server(clock.csns)
    if oldest is not None:
        servers = len({csn.server_id for csn in clock.csns})
        # A provider far behind the others is cut off, or retired with its value left in
        # contextCSN (then every run re-reads since its last write): say how far.
        behind = max(csn.time for csn in clock.csns) - oldest.time
        lag = f", {behind.days} days behind the newest" if behind >= STALE_SERVER else ""
        which = (f"oldest contextCSN (server ID {oldest.server_id:03x}, of {servers}{lag})"
                 if servers > 1 else "contextCSN")
        return _time(oldest.time, f"{served}{which} of {clock.naming_context}", clock,
                     failed_over)
    margin = settings.PROFILESYNC_CLOCK_SKEW_MARGIN_SECONDS
    return _time(application_now() - timedelta(seconds=margin),
                 f"{served}this server's clock minus {margin} s (the directory offers "
                 "neither currentTime nor contextCSN)", clock, failed_over)


def _time(moment: datetime, source: str, clock: ServerClock, failed_over: bool) -> DirectoryTime:
    if len(source) > SOURCE_LENGTH:
        source = source[: SOURCE_LENGTH - 1] + "…"
    return DirectoryTime(moment.replace(microsecond=0), source, clock.url, failed_over)



def _same_server(a: str, b: str) -> bool:
    """Whether two LDAP URLs name the same server (libldap adds the default port)."""
    def key(url: str) -> tuple:
        parts = urlsplit(url.strip())
        if parts.scheme == "ldapi":
            return (parts.scheme, parts.netloc.lower())
        try:
            port = parts.port
        except ValueError:
            return (url,)
        default = 636 if parts.scheme == "ldaps" else 389
        return (parts.scheme.lower(), (parts.hostname or "").lower(), port or default)
    return key(a) == key(b)
