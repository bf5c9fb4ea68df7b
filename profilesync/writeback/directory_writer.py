"""One connection's worth of conditional writes, and what each directory answer means.

The dialog's save and the retry queue write the same way: the server's root DSE
(assertion control? entryCSN?) is read once per connection, each attribute's
schema (single-valued? equality rule?) once per attribute, and from those
:func:`~profilesync.ldapclient.modify.choose_method` picks how the write is made
conditional. Every directory answer then has exactly one outcome
(:func:`outcome_of`): written, conflict, pending (transient: retried with
backoff) or refused (permanent: the message says what to change).
"""

from __future__ import annotations

from profilesync.ldapclient.connection import open_connection
from profilesync.ldapclient.errors import (
    DirectoryBusy,
    DirectoryError,
    DirectoryUnreachable,
    TLSFailure,
    WriteConflict,
)
from profilesync.ldapclient.modify import (
    AttributeKind,
    WriteResult,
    attribute_kind,
    choose_method,
    has_entry_csn,
    supports_assertion,
    write_attribute,
)
from profilesync.ldapclient.rootdse import read_root_dse

from .models import WriteResultKind

# Answers after which the same write may well succeed later, unchanged.
TRANSIENT = (DirectoryUnreachable, TLSFailure, DirectoryBusy)


def outcome_of(exc: DirectoryError, *, connecting: bool = False) -> str:
    """The one outcome of a directory answer: conflict, pending or refused.

    A failure to connect at all (``connecting``: unreachable, TLS, a refused bind, a
    bind password that cannot be decrypted) says nothing about the person's value: it
    is fixed in the directory's settings or the network, and the edit waits for that.
    """
    if connecting:
        return WriteResultKind.PENDING
    if isinstance(exc, WriteConflict):
        return WriteResultKind.CONFLICT
    if isinstance(exc, TRANSIENT):
        return WriteResultKind.PENDING
    return WriteResultKind.REFUSED


class DirectoryWriter:
    """A bound connection to one directory that writes attributes conditionally."""

    def __init__(self, directory) -> None:
        self.directory = directory
        self.conn = open_connection(directory.connection_settings())
        try:
            root_dse = read_root_dse(self.conn)
        except DirectoryError:
            self.close()
            raise
        self.assertion = supports_assertion(root_dse)
        self.entry_csn = has_entry_csn(root_dse)
        self._kinds: dict[str, AttributeKind] = {}

    def __enter__(self) -> DirectoryWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.conn.unbind_s()
        except Exception:  # noqa: BLE001 - a connection that already broke needs no goodbye
            pass

    def method_for(self, dn: str, attribute: str) -> str:
        if not self.assertion:
            return choose_method(AttributeKind(False, True), assertion=False, entry_csn=False)
        key = attribute.lower()
        if key not in self._kinds:
            self._kinds[key] = attribute_kind(self.conn, dn, attribute)
        return choose_method(self._kinds[key], assertion=True, entry_csn=self.entry_csn)

    def write(self, dn: str, attribute: str, new: list[bytes],
              expected: list[bytes]) -> WriteResult:
        """Change ``attribute`` from ``expected`` to ``new``; raises a typed error otherwise.

        A "conflict" whose values are already the person's is no conflict: it is what a
        retry finds when the connection broke after the server applied the first try.
        """
        try:
            return write_attribute(self.conn, dn, attribute, new, expected,
                                   method=self.method_for(dn, attribute))
        except WriteConflict as exc:
            if already_applied(exc.current, new, expected):
                return WriteResult(True, "already in the directory")
            raise


def already_applied(current: list[bytes], new: list[bytes], expected: list[bytes]) -> bool:
    """Whether the directory holds the person's change: their values, or (multi-valued)
    every value they added and none they removed."""
    if sorted(current) == sorted(new):
        return True
    added = [v for v in new if v not in expected]
    removed = [v for v in expected if v not in new]
    return bool(added or removed) and all(v in current for v in added) and not any(
        v in current for v in removed)
