"""Where a run's watermark comes from: the directory's clock, not ours.

An incremental run asks for entries modified at or after the watermark, so the
watermark must be a time on the directory's clock taken *before* the run reads
anything: then a change made while the run is reading has a later
modification time and is found by the next run, and no skew between this
server's clock and the directory's can hide a change. We ask the directory:

* Active Directory (and Samba) publish ``currentTime`` in the root DSE;
* OpenLDAP with syncprov keeps ``contextCSN`` on the naming context: the time
  of its latest write, so every later write has a time at or after it;
* a server with neither gets this server's clock minus a safety margin
  (``PROFILESYNC_CLOCK_SKEW_MARGIN_SECONDS``), and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from ldap.ldapobject import LDAPObject

from profilesync.ldapclient.rootdse import naming_context_of, read_context_csns, read_root_dse
from profilesync.ldapclient.timestamps import parse_generalized_time


def application_now() -> datetime:
    """This server's clock. Tests replace it to simulate skew."""
    return timezone.now()


@dataclass(frozen=True)
class DirectoryTime:
    moment: datetime
    source: str


def csn_time(csn: str) -> datetime:
    """The time part of a CSN like ``20261127095856.123456Z#000000#000#000000``."""
    return parse_generalized_time(csn.split("#", 1)[0])


def directory_now(conn: LDAPObject, search_base: str,
                  root_dse: dict[str, list[bytes]] | None = None) -> DirectoryTime:
    """The directory's idea of "now" (or of its latest write), truncated to the second."""
    if root_dse is None:
        root_dse = read_root_dse(conn)
    current = root_dse.get("currenttime")
    if current:
        try:
            moment = parse_generalized_time(current[0].decode("ascii"))
            return DirectoryTime(moment.replace(microsecond=0), "directory currentTime")
        except ValueError:
            pass
    context = naming_context_of(search_base, root_dse)
    if context:
        times = []
        for csn in read_context_csns(conn, context):
            try:
                times.append(csn_time(csn))
            except ValueError:
                continue
        if times:
            return DirectoryTime(max(times).replace(microsecond=0),
                                 f"contextCSN of {context}")
    margin = settings.PROFILESYNC_CLOCK_SKEW_MARGIN_SECONDS
    moment = application_now() - timedelta(seconds=margin)
    return DirectoryTime(moment.replace(microsecond=0),
                         f"this server's clock minus {margin} s (the directory offers "
                         "neither currentTime nor contextCSN)")
