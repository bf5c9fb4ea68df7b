"""Paged search that yields pages of raw entries.

Paging is written once here; callers iterate pages and never see cookies.
Values stay ``bytes`` so photos survive and so a caller can decide "unchanged"
from a digest of the raw values before paying for any decoding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager

import ldap
from ldap.controls import LDAPControl, SimplePagedResultsControl
from ldap.ldapobject import LDAPObject

from .errors import (
    BaseDNNotFound,
    DirectoryUnreachable,
    InvalidFilter,
    PageSizeRefused,
    SearchFailed,
    describe_ldap_error,
)

Entry = tuple[str, dict[str, list[bytes]]]
Page = list[Entry]
# Told the page size the server allows, when it is smaller than the one asked for.
PageLimitCallback = Callable[[int], None]


def paged_search(
    conn: LDAPObject,
    base_dn: str,
    filterstr: str,
    attributes: Iterable[str] | None,
    page_size: int = 1000,
    scope: int = ldap.SCOPE_SUBTREE,
    controls: Sequence[LDAPControl] = (),
    on_page_limit: PageLimitCallback | None = None,
) -> Iterator[Page]:
    """Yield pages of entries matching ``filterstr`` under ``base_dn``.

    The request for the next page goes out before the current page is
    yielded, so the server looks up and encodes page k+1 (on another core)
    while the caller maps and writes page k; waiting for each page before
    asking for the next left the server and the sync taking turns. A caller
    that stops early has the outstanding request abandoned.

    A page size the server refuses (OpenLDAP's ``size.pr``) is not the end:
    the largest size it allows is found (:func:`allowed_page_size`), the
    search starts again with it, and ``on_page_limit(size)`` is told. A server
    that quietly hands out shorter pages than asked (Active Directory's
    MaxPageSize) is noticed on the first page and reported the same way.

    Referrals and other non-entry results are dropped. Errors are mapped to the
    typed errors of :mod:`.errors` naming the setting at fault. ``controls``
    go with every page's request (e.g. AD's Show Deleted control).
    """
    attrlist = list(attributes) if attributes is not None else None
    control = SimplePagedResultsControl(True, size=page_size, cookie="")

    def request() -> int:
        with _typed_errors(base_dn, filterstr, control.size):
            return conn.search_ext(base_dn, scope, filterstr, attrlist, serverctrls=[control, *controls])

    msgid: int | None = request()
    first = True
    try:
        while msgid is not None:
            try:
                with _typed_errors(base_dn, filterstr, control.size):
                    _rtype, rdata, _rmsgid, server_controls = conn.result3(msgid)
            except PageSizeRefused:
                msgid = None
                if not first:
                    raise  # pages were handed out already: starting again would repeat them
                allowed = allowed_page_size(conn, base_dn, control.size - 1)
                control.size = allowed
                if on_page_limit is not None:
                    on_page_limit(allowed)
                msgid = request()
                continue
            msgid = None
            cookie = _next_cookie(server_controls)
            if first and cookie and 0 < len(rdata) < control.size and on_page_limit is not None:
                on_page_limit(len(rdata))  # the server capped the page (AD's MaxPageSize)
            first = False
            if cookie:
                control.cookie = cookie
                msgid = request()
            page = [(dn, attrs) for dn, attrs in rdata if dn is not None]
            if page:
                yield page
    finally:
        if msgid is not None:
            _abandon(conn, msgid)


def _page_size_accepted(conn: LDAPObject, base_dn: str, size: int) -> bool:
    """Whether a paged search of ``size`` is allowed: one base-scope probe, no users read."""
    control = SimplePagedResultsControl(True, size=size, cookie="")
    try:
        with _typed_errors(base_dn, "(objectClass=*)", size):
            msgid = conn.search_ext(base_dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"],
                                    serverctrls=[control])
            conn.result3(msgid)
    except PageSizeRefused:
        return False
    return True


def allowed_page_size(conn: LDAPObject, base_dn: str, wanted: int) -> int:
    """The largest page size up to ``wanted`` that the server allows this account.

    The server does not say its limit, only that a size is too large, so the
    size is halved until one is accepted and the exact limit is then found
    between that and the last refused one (about ten base-scope probes of a
    few milliseconds, reading no users). Raises :class:`PageSizeRefused`
    when not even a page of one entry is allowed.
    """
    wanted = max(wanted, 1)
    if _page_size_accepted(conn, base_dn, wanted):
        return wanted
    refused = size = wanted
    while True:
        size //= 2
        if size < 1:
            raise PageSizeRefused(
                f"the server refuses every paged search under {base_dn!r} for this account",
                page_size=1, hint="allow this account paged results on the server "
                "(OpenLDAP: olcLimits size.pr and size.prtotal)")
        if _page_size_accepted(conn, base_dn, size):
            break
        refused = size
    accepted = size
    while refused - accepted > 1:
        middle = (accepted + refused) // 2
        if _page_size_accepted(conn, base_dn, middle):
            accepted = middle
        else:
            refused = middle
    return accepted


def count_matches(conn: LDAPObject, base_dn: str, filterstr: str, limit: int = 1) -> int:
    """How many entries match, up to ``limit`` (a size-limited probe, not a full read)."""
    try:
        with _typed_errors(base_dn, filterstr, limit):
            try:
                msgid = conn.search_ext(base_dn, ldap.SCOPE_SUBTREE, filterstr, ["1.1"],
                                        sizelimit=limit)
                _, data, _, _ = conn.result3(msgid)
            except ldap.SIZELIMIT_EXCEEDED:
                return limit
    except PageSizeRefused:
        return limit  # an administrative limit on a count: there are at least that many
    return sum(1 for dn, _ in data if dn is not None)


@contextmanager
def _typed_errors(base_dn: str, filterstr: str, page_size: int = 0) -> Iterator[None]:
    try:
        yield
    except ldap.ADMINLIMIT_EXCEEDED as exc:
        raise PageSizeRefused(f"the server refused a page of {page_size} entries under "
                              f"{base_dn!r}: {describe_ldap_error(exc)}",
                              page_size=page_size) from exc
    except ldap.NO_SUCH_OBJECT as exc:
        raise BaseDNNotFound(f"search base {base_dn!r} does not exist") from exc
    except ldap.FILTER_ERROR as exc:
        raise InvalidFilter(f"the server rejected the filter {filterstr!r}") from exc
    except (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.UNAVAILABLE) as exc:
        # UNAVAILABLE: a slapd shutting down tells open connections so (a notice of
        # disconnection) before it closes them; to the run it is the same loss.
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
    except (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.UNAVAILABLE) as exc:
        raise DirectoryUnreachable(f"the directory stopped answering: {describe_ldap_error(exc)}") from exc
    except ldap.LDAPError as exc:
        raise SearchFailed(f"reading {dn!r} failed: {describe_ldap_error(exc)}",
                           setting="base_dn") from exc
    return result[0] if result else None
