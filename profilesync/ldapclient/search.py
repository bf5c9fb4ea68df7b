"""Paged search that yields pages of raw entries.

Paging is written once here; callers iterate pages and never see cookies.
Values stay ``bytes`` so photos survive and so a caller can decide "unchanged"
from a digest of the raw values before paying for any decoding.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import ldap
from ldap.controls import LDAPControl, SimplePagedResultsControl
from ldap.ldapobject import LDAPObject

from .errors import (
    BaseDNNotFound,
    DirectoryUnreachable,
    InvalidFilter,
    SearchFailed,
    describe_ldap_error,
)

Entry = tuple[str, dict[str, list[bytes]]]
Page = list[Entry]


def paged_search(
    conn: LDAPObject,
    base_dn: str,
    filterstr: str,
    attributes: Iterable[str] | None,
    page_size: int = 1000,
    scope: int = ldap.SCOPE_SUBTREE,
    controls: Sequence[LDAPControl] = (),
) -> Iterator[Page]:
    """Yield pages of entries matching ``filterstr`` under ``base_dn``.

    The request for the next page goes out before the current page is
    yielded, so the server looks up and encodes page k+1 (on another core)
    while the caller maps and writes page k; waiting for each page before
    asking for the next left the server and the sync taking turns. A caller
    that stops early has the outstanding request abandoned.

    Referrals and other non-entry results are dropped. Errors are mapped to the
    typed errors of :mod:`.errors` naming the setting at fault. ``controls``
    go with every page's request (e.g. AD's Show Deleted control).
    """
    attrlist = list(attributes) if attributes is not None else None
    control = SimplePagedResultsControl(True, size=page_size, cookie="")

    def request() -> int:
        with _typed_errors(base_dn, filterstr):
            return conn.search_ext(base_dn, scope, filterstr, attrlist, serverctrls=[control, *controls])

    msgid: int | None = request()
    try:
        while msgid is not None:
            with _typed_errors(base_dn, filterstr):
                _rtype, rdata, _rmsgid, server_controls = conn.result3(msgid)
            msgid = None
            cookie = _next_cookie(server_controls)
            if cookie:
                control.cookie = cookie
                msgid = request()
            page = [(dn, attrs) for dn, attrs in rdata if dn is not None]
            if page:
                yield page
    finally:
        if msgid is not None:
            _abandon(conn, msgid)


@contextmanager
def _typed_errors(base_dn: str, filterstr: str) -> Iterator[None]:
    try:
        yield
    except ldap.NO_SUCH_OBJECT as exc:
        raise BaseDNNotFound(f"search base {base_dn!r} does not exist") from exc
    except ldap.FILTER_ERROR as exc:
        raise InvalidFilter(f"the server rejected the filter {filterstr!r}") from exc
    except (ldap.SERVER_DOWN, ldap.TIMEOUT) as exc:
        raise DirectoryUnreachable(
            f"the directory stopped answering: {describe_ldap_error(exc)}") from exc
    except ldap.INVALID_DN_SYNTAX as exc:
        raise BaseDNNotFound(f"search base {base_dn!r} is not a valid DN") from exc
    except ldap.LDAPError as exc:
        raise SearchFailed(f"search under {base_dn!r} failed: {describe_ldap_error(exc)}") from exc


def _abandon(conn: LDAPObject, msgid: int) -> None:
    """Tell the server to stop a page nobody will read (best effort: it may be gone)."""
    try:
        conn.abandon_ext(msgid)
    except ldap.LDAPError:
        pass


def _next_cookie(server_controls: list) -> bytes:
    for ctrl in server_controls or ():
        if ctrl.controlType == SimplePagedResultsControl.controlType:
            return ctrl.cookie
    return b""


def read_entry(conn: LDAPObject, dn: str, attributes: Iterable[str] | None = None) -> Entry | None:
    """Read one entry by DN, or None when it does not exist."""
    try:
        result = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", list(attributes or []) or None)
    except ldap.NO_SUCH_OBJECT:
        return None
    except (ldap.SERVER_DOWN, ldap.TIMEOUT) as exc:
        raise DirectoryUnreachable(f"the directory stopped answering: {describe_ldap_error(exc)}") from exc
    return result[0] if result else None
