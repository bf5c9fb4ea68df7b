"""RFC 4533 content synchronisation, refreshOnly: what changed and what is gone.

One call, :func:`refresh_only`, sends a sync request (with the cookie of the
last refresh, if any) and reads the answer to the end. With a cookie inside
the server's session log, the answer lists the entries changed and deleted
since; otherwise the server falls back to the *present* phase, naming every
entry that still exists, and everything it did not name is gone. The result
says which of the two happened, so the caller never has to know the protocol.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import ldap
from ldap.controls import RequestControl, ResponseControl
from ldap.ldapobject import LDAPObject

from .ber import BOOLEAN, ENUMERATED, OCTET_STRING, SEQUENCE, SET, elements, encode_tlv, read_tlv
from .errors import DirectoryError, DirectoryUnreachable, SearchFailed, describe_ldap_error

SYNC_REQUEST_OID = "1.3.6.1.4.1.4203.1.9.1.1"
SYNC_STATE_OID = "1.3.6.1.4.1.4203.1.9.1.2"
SYNC_DONE_OID = "1.3.6.1.4.1.4203.1.9.1.3"
SYNC_INFO_OID = "1.3.6.1.4.1.4203.1.9.1.4"

REFRESH_ONLY = 1
STATES = {0: "present", 1: "add", 2: "modify", 3: "delete"}


class SyncRequest(RequestControl):
    """syncRequestValue ::= SEQUENCE { mode ENUMERATED, cookie OCTET STRING OPTIONAL, ... }"""

    def __init__(self, cookie: bytes | None):
        super().__init__(SYNC_REQUEST_OID, True)
        self.cookie = cookie

    def encodeControlValue(self) -> bytes:
        body = encode_tlv(ENUMERATED, bytes([REFRESH_ONLY]))
        if self.cookie:
            body += encode_tlv(OCTET_STRING, self.cookie)
        return encode_tlv(SEQUENCE, body)


class SyncState(ResponseControl):
    """syncStateValue ::= SEQUENCE { state ENUMERATED, entryUUID OCTET STRING, cookie ... }"""

    controlType = SYNC_STATE_OID

    def decodeControlValue(self, encoded: bytes) -> None:
        _, body, _ = read_tlv(encoded)
        parts = list(elements(body))
        self.state = STATES.get(int.from_bytes(parts[0][1], "big"), "unknown")
        self.entry_uuid = str(uuid.UUID(bytes=parts[1][1]))
        self.cookie = parts[2][1] if len(parts) > 2 else None


class SyncDone(ResponseControl):
    """syncDoneValue ::= SEQUENCE { cookie OCTET STRING OPTIONAL, refreshDeletes BOOLEAN DEFAULT FALSE }"""

    controlType = SYNC_DONE_OID

    def decodeControlValue(self, encoded: bytes) -> None:
        self.cookie = None
        self.refresh_deletes = False
        _, body, _ = read_tlv(encoded)
        for tag, value in elements(body):
            if tag == OCTET_STRING:
                self.cookie = value
            elif tag == BOOLEAN:
                self.refresh_deletes = value != b"\x00"


RESPONSE_CONTROLS = {SYNC_STATE_OID: SyncState, SYNC_DONE_OID: SyncDone}


class SyncreplUnavailable(DirectoryError):
    """The server (or this account) cannot do content synchronisation on this base.

    OpenLDAP lists the sync control in its root DSE even on a database without
    the syncprov overlay, so only asking tells; the caller then finds deletions
    by a sweep of unique IDs instead.
    """

    setting = "bind_dn"
    hint = ""


@dataclass
class Refresh:
    """The outcome of one refreshOnly exchange.

    ``present`` is None when the server listed deletions explicitly (all in
    ``deleted``); otherwise it holds every entry the server named as still
    there, and any other entry known to the caller is gone.
    """

    cookie: bytes | None = None
    changed: set[str] = field(default_factory=set)
    deleted: set[str] = field(default_factory=set)
    present: set[str] | None = None

    def gone(self, known: set[str]) -> set[str]:
        if self.present is None:
            return self.deleted & known
        return known - self.present - self.changed


def _read_sync_info(value: bytes, refresh: Refresh, named: set[str]) -> None:
    """Apply one syncInfo intermediate message (newcookie, refreshDelete/Present, syncIdSet)."""
    tag, body, _ = read_tlv(value)
    if tag == 0x80:  # newcookie
        refresh.cookie = body
        return
    ids_are_deletes = False
    for inner_tag, inner in elements(body):
        if inner_tag == OCTET_STRING:
            refresh.cookie = inner
        elif inner_tag == BOOLEAN and tag == 0xA3:
            ids_are_deletes = inner != b"\x00"
        elif inner_tag == SET:
            uuids = {str(uuid.UUID(bytes=raw)) for _, raw in elements(inner)}
            (refresh.deleted if ids_are_deletes else named).update(uuids)
    if tag == 0xA2:  # refreshPresent: the present phase is in use
        refresh.present = named


def refresh_only(conn: LDAPObject, base_dn: str, filterstr: str, cookie: bytes | None,
                 attributes: list[str] | None = None) -> Refresh:
    """Run one refreshOnly synchronisation and return what it reported."""
    refresh = Refresh(cookie=cookie)
    named: set[str] = set()
    try:
        msgid = conn.search_ext(base_dn, ldap.SCOPE_SUBTREE, filterstr, attributes or ["1.1"],
                                serverctrls=[SyncRequest(cookie)])
        while True:
            rtype, rdata, _, controls, _, _ = conn.result4(
                msgid, all=0, add_ctrls=1, add_intermediates=1,
                resp_ctrl_classes=RESPONSE_CONTROLS)
            if rtype == ldap.RES_SEARCH_ENTRY:
                for _dn, _attrs, entry_controls in rdata:
                    for control in entry_controls:
                        if isinstance(control, SyncState):
                            _read_sync_state(control, refresh, named)
            elif rtype == ldap.RES_INTERMEDIATE:
                for name, value, _ in rdata:
                    if name == SYNC_INFO_OID and value:
                        _read_sync_info(value, refresh, named)
            elif rtype == ldap.RES_SEARCH_RESULT:
                for control in controls:
                    if isinstance(control, SyncDone):
                        if control.cookie is not None:
                            refresh.cookie = control.cookie
                        if not control.refresh_deletes:
                            refresh.present = named
                if cookie is None:
                    # An initial refresh sends the whole content: what it did
                    # not send is not there, whichever phase the server named.
                    refresh.present = named
                return refresh
    except (ldap.SERVER_DOWN, ldap.TIMEOUT) as exc:
        raise DirectoryUnreachable(
            f"the directory stopped answering: {describe_ldap_error(exc)}") from exc
    except (ldap.UNAVAILABLE_CRITICAL_EXTENSION, ldap.UNWILLING_TO_PERFORM,
            ldap.INSUFFICIENT_ACCESS, ldap.SIZELIMIT_EXCEEDED, ldap.ADMINLIMIT_EXCEEDED) as exc:
        raise SyncreplUnavailable(
            f"syncrepl is not available here: {describe_ldap_error(exc)}") from exc
    except ldap.LDAPError as exc:
        raise SearchFailed(f"content synchronisation (syncrepl) failed: "
                           f"{describe_ldap_error(exc)}", setting="url",
                           hint="the directory may not offer syncrepl to this account") from exc


def _read_sync_state(control: SyncState, refresh: Refresh, named: set[str]) -> None:
    if control.state == "delete":
        refresh.deleted.add(control.entry_uuid)
    elif control.state == "present":
        named.add(control.entry_uuid)
    else:
        refresh.changed.add(control.entry_uuid)
    if control.cookie is not None:
        refresh.cookie = control.cookie


def offers_syncrepl(root_dse: dict[str, list[bytes]]) -> bool:
    """Whether the server lists the sync control (necessary, not sufficient: see above)."""
    return SYNC_REQUEST_OID.encode() in root_dse.get("supportedcontrol", [])
