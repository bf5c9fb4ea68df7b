"""What a directory server says about its own clock, read over LDAP.

The sync's watermark policy lives in ``sync.clock``; this module only reads and
parses what the server offers, so that python-ldap stays in ``ldapclient``:

* the root DSE's ``currentTime`` (Active Directory, Samba);
* the naming context's ``contextCSN`` values (OpenLDAP with syncprov): one per
  server ID (provider) whose changes this server has seen, each the change
  sequence number of the latest such change;
* which of the configured URLs this connection is talking to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import ldap
from ldap.ldapobject import LDAPObject

from .rootdse import naming_context_of, read_context_csns, read_root_dse
from .timestamps import parse_generalized_time

Connection = LDAPObject


@dataclass(frozen=True)
class ChangeSequenceNumber:
    """One CSN, ``20261127095856.123456Z#000000#001#000000``: time#count#server ID#modification."""

    time: datetime
    server_id: int
    raw: str

    @classmethod
    def parse(cls, value: str) -> ChangeSequenceNumber:
        """Raise ValueError for anything that is not a CSN (a hostile server may send anything)."""
        parts = value.split("#")
        if len(parts) != 4:
            raise ValueError(f"{value!r} is not a CSN (time#count#sid#mod)")
        return cls(time=parse_generalized_time(parts[0]), server_id=int(parts[2], 16), raw=value)


@dataclass(frozen=True)
class ServerClock:
    """A server's clock readings, as offered; any of them may be missing."""

    url: str  # the URL this connection reached ("" if the library cannot say)
    current_time: datetime | None
    naming_context: str | None
    csns: tuple[ChangeSequenceNumber, ...]
    unreadable_csns: tuple[str, ...] = ()


def served_url(conn: Connection) -> str:
    """The URL ``conn`` was opened with: which of a directory's URLs answered."""
    try:
        return str(conn.get_option(ldap.OPT_URI) or "")
    except ldap.LDAPError:
        return ""


def read_server_clock(conn: Connection, search_base: str,
                      root_dse: dict[str, list[bytes]] | None = None) -> ServerClock:
    """Read ``currentTime`` and, without it, the ``contextCSN`` of ``search_base``'s context."""
    if root_dse is None:
        root_dse = read_root_dse(conn)
    url = served_url(conn)
    current = root_dse.get("currenttime")
    if current:
        try:
            moment = parse_generalized_time(current[0].decode("ascii"))
            return ServerClock(url, moment, None, ())
        except (UnicodeDecodeError, ValueError):
            pass
    context = naming_context_of(search_base, root_dse)
    csns: list[ChangeSequenceNumber] = []
    unreadable: list[str] = []
    if context:
        try:
            values = read_context_csns(conn, context)
        except UnicodeDecodeError:
            values, unreadable = [], ["(not ASCII)"]
        for value in values:
            try:
                csns.append(ChangeSequenceNumber.parse(value))
            except ValueError:
                unreadable.append(value)
    return ServerClock(url, None, context, tuple(csns), tuple(unreadable))
