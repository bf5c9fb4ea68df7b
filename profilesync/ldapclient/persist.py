"""RFC 4533 refreshAndPersist: the server pushes every change as it happens.

A :class:`PersistentSearch` sends a sync request in mode refreshAndPersist
with the stored cookie. The server first answers what changed since that
cookie (the *refresh* phase, as :mod:`.syncrepl`'s refreshOnly does), says
the refresh is done, and then keeps the search open and sends each add,
modify, rename and delete as it is committed (the *persist* phase), with a
new cookie now and then. :meth:`PersistentSearch.poll` gathers what arrived
into one :class:`Batch`, so the caller applies changes in small transactions
and stores the cookie with them.

Why not python-ldap's ``ldap.syncrepl.SyncreplConsumer``: it decodes the
controls with pyasn1 (about a hundred times slower than :mod:`.ber`, see
there) and wants to be the connection class, while ours is opened and bound
by :mod:`.connection` with its failover and TLS rules. The protocol parts are
the same ones :mod:`.syncrepl` reads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import ldap
from ldap.ldapobject import LDAPObject

from .ber import ENUMERATED, OCTET_STRING, SEQUENCE, encode_tlv
from .errors import DirectoryError, DirectoryUnreachable, SearchFailed, describe_ldap_error
from .search import Entry
from .syncrepl import (
    RESPONSE_CONTROLS,
    SYNC_INFO_OID,
    SyncDone,
    SyncreplUnavailable,
    SyncRequest,
    SyncState,
    _read_sync_info,
)
from .syncrepl import Refresh as _Refresh

REFRESH_AND_PERSIST = 3
# RFC 4533 section 3.3: "e-syncRefreshRequired", the server cannot resume from the cookie.
SYNC_REFRESH_REQUIRED = 4096


class PersistRequest(SyncRequest):
    """The sync request control in mode refreshAndPersist."""

    def encodeControlValue(self) -> bytes:
        body = encode_tlv(ENUMERATED, bytes([REFRESH_AND_PERSIST]))
        if self.cookie:
            body += encode_tlv(OCTET_STRING, self.cookie)
        return encode_tlv(SEQUENCE, body)


class CookieRefused(DirectoryError):
    """The server cannot resume from the stored cookie and asks for a fresh start."""

    setting = "url"
    hint = "the listener catches up by a sync run and starts again without the old cookie"


class PersistEnded(DirectoryError):
    """The server ended the persistent search (it should never end by itself)."""

    setting = "url"
    hint = "the listener reconnects and resumes from its cookie"


@dataclass
class Batch:
    """What arrived in one :meth:`PersistentSearch.poll`.

    ``entries`` are added, changed or renamed entries with the attributes
    asked for (the last version of each); ``deleted`` the entryUUIDs deleted
    or gone out of the filter. ``present`` is set once, at the end of a
    refresh that used the present phase: every entry the server named as
    still there (any other entry the caller knows is gone); that happens
    without a cookie, or when the server could no longer resume from it.
    ``cookie`` is the newest cookie seen, to store with the batch.
    """

    entries: dict[str, Entry] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    present: set[str] | None = None
    cookie: bytes | None = None
    refresh_done: bool = False

    def __bool__(self) -> bool:
        return bool(self.entries or self.deleted or self.present is not None
                    or self.refresh_done or self.cookie)

    @property
    def changed_ids(self) -> set[str]:
        return set(self.entries)


class PersistentSearch:
    """One open refreshAndPersist search on an open, bound connection."""

    def __init__(self, conn: LDAPObject, base_dn: str, filterstr: str, attributes: list[str],
                 cookie: bytes | None):
        self.conn = conn
        self.started_with_cookie = cookie is not None
        self.cookie = cookie
        self.refreshing = True
        self._named: set[str] = set()  # present-phase names during the refresh
        self._present_phase = False
        try:
            self.msgid = conn.search_ext(base_dn, ldap.SCOPE_SUBTREE, filterstr, attributes,
                                         serverctrls=[PersistRequest(cookie)])
        except ldap.LDAPError as exc:
            raise _translate(exc) from exc

    def poll(self, timeout: float, *, max_entries: int = 1000) -> Batch:
        """Wait up to ``timeout`` seconds for something, then take what else is ready.

        Returns at most about ``max_entries`` changes; an empty batch means
        nothing arrived. Raises :class:`DirectoryUnreachable` when the
        connection drops, :class:`CookieRefused` when the server cannot resume.
        """
        batch = Batch()
        deadline = time.monotonic() + timeout
        while len(batch.entries) + len(batch.deleted) < max_entries:
            wait = max(0.0, deadline - time.monotonic()) if not batch else 0.0
            message = self._next(wait)
            if message is None:
                break
            self._take(message, batch)
            if batch.refresh_done and batch.present is not None:
                break  # hand a present-phase refresh over on its own
        batch.cookie = self.cookie if batch else None
        return batch

    def abandon(self) -> None:
        try:
            self.conn.abandon(self.msgid)
        except ldap.LDAPError:
            pass

    def _next(self, wait: float):
        try:
            rtype, rdata, _, controls, _, _ = self.conn.result4(
                # Never 0: python-ldap then returns nothing and fails decoding its controls.
                self.msgid, all=0, timeout=max(wait, 0.001), add_ctrls=1,
                add_intermediates=1, resp_ctrl_classes=RESPONSE_CONTROLS)
        except ldap.TIMEOUT:
            return None
        except ldap.LDAPError as exc:
            raise _translate(exc) from exc
        if rtype is None:
            return None
        return rtype, rdata, controls

    def _take(self, message, batch: Batch) -> None:
        rtype, rdata, controls = message
        if rtype == ldap.RES_SEARCH_ENTRY:
            for dn, attributes, entry_controls in rdata:
                for control in entry_controls:
                    if isinstance(control, SyncState):
                        self._entry(control, dn, attributes, batch)
        elif rtype == ldap.RES_INTERMEDIATE:
            for name, value, _ in rdata:
                if name == SYNC_INFO_OID and value:
                    self._info(value, batch)
        elif rtype == ldap.RES_SEARCH_RESULT:
            for control in controls:
                if isinstance(control, SyncDone) and control.cookie is not None:
                    self.cookie = control.cookie
            raise PersistEnded("the directory ended the persistent search")

    def _entry(self, control: SyncState, dn: str, attributes: dict, batch: Batch) -> None:
        uid = control.entry_uuid
        if control.state == "delete":
            batch.entries.pop(uid, None)
            batch.deleted.add(uid)
        elif control.state == "present":
            self._named.add(uid)
        else:
            batch.deleted.discard(uid)
            batch.entries[uid] = (dn, attributes)
            if self.refreshing:
                # Entries sent in full during the refresh are present too; earlier batches
                # of a long refresh have been handed over already, so remember them here.
                self._named.add(uid)
        if control.cookie is not None:
            self.cookie = batch.cookie = control.cookie

    def _info(self, value: bytes, batch: Batch) -> None:
        refresh = _Refresh(cookie=self.cookie)
        tag = value[0]
        _read_sync_info(value, refresh, self._named)
        self.cookie = refresh.cookie
        batch.cookie = refresh.cookie
        batch.deleted |= refresh.deleted
        for uid in refresh.deleted:
            batch.entries.pop(uid, None)
        if tag == 0xA2:
            self._present_phase = True
        if tag in (0xA1, 0xA2) and self.refreshing and _refresh_done(value):
            self.refreshing = False
            batch.refresh_done = True
            if self._present_phase or not self.started_with_cookie:
                batch.present = self._named | set(batch.entries)
            self._named = set()


def _refresh_done(value: bytes) -> bool:
    """refreshDelete / refreshPresent carry ``refreshDone BOOLEAN DEFAULT TRUE``."""
    from .ber import BOOLEAN, elements, read_tlv

    _, body, _ = read_tlv(value)
    for tag, inner in elements(body):
        if tag == BOOLEAN:
            return inner != b"\x00"
    return True


def _translate(exc: ldap.LDAPError) -> DirectoryError:
    details = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    if details.get("result") == SYNC_REFRESH_REQUIRED:
        return CookieRefused("the directory cannot resume from the stored cookie "
                             f"(e-syncRefreshRequired): {describe_ldap_error(exc)}")
    if isinstance(exc, ldap.SERVER_DOWN | ldap.CONNECT_ERROR):
        return DirectoryUnreachable(
            f"the directory stopped answering: {describe_ldap_error(exc)}")
    if isinstance(exc, ldap.UNAVAILABLE_CRITICAL_EXTENSION | ldap.UNWILLING_TO_PERFORM
                  | ldap.INSUFFICIENT_ACCESS | ldap.PROTOCOL_ERROR):
        return SyncreplUnavailable(
            f"refreshAndPersist is not available here: {describe_ldap_error(exc)}")
    return SearchFailed(f"the persistent search failed: {describe_ldap_error(exc)}",
                        setting="url", hint="the listener reconnects and resumes from its cookie")
