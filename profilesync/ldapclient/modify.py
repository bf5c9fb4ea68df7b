"""Writing one attribute of one entry: only what the person changed, only where the
directory still holds what they saw.

Four ways to make the write conditional, chosen per attribute and server (the
table is in docs/architecture.md, "Write-back: modifications and outcomes"):

- ``value-delta`` (multi-valued attributes, and every attribute on servers
  without the assertion control, i.e. Active Directory): one modify that
  deletes the values the person removed and adds the ones they added. The
  server applies it atomically and refuses it (``noSuchAttribute``) when a
  value the person removed is already gone; a value someone else added
  meanwhile stays.
- ``assertion`` (single-valued attributes with an equality rule, on servers
  with RFC 4528): replace, asserting the value the person saw (or absence).
- ``entry-assertion`` (values without an equality rule, e.g. ``jpegPhoto``, on
  OpenLDAP): compare the values, then replace asserting the entry's
  ``entryCSN`` as read with them, so nothing can land in between.
- ``compare-then-write`` (no equality rule and no assertion control): compare,
  then replace; a change landing between the read and the write (one round
  trip) would be overwritten. docs/architecture.md states this window.

Every python-ldap error leaves this module as a typed
:class:`~profilesync.ldapclient.errors.DirectoryError` (``ldap_write_error``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import ldap
from ldap.controls.libldap import AssertionControl
from ldap.ldapobject import LDAPObject

from .errors import (  # noqa: F401  (WriteConflict, WriteRefused: re-exported for callers)
    DirectoryBusy,
    DirectoryError,
    DirectoryUnreachable,
    WriteConflict,
    WriteReferred,
    WriteRefused,
    describe_ldap_error,
)

REFUSALS = {
    ldap.INSUFFICIENT_ACCESS: "insufficient access: the service account may not write {a}",
    ldap.CONSTRAINT_VIOLATION: "the directory refused the value of {a} (constraint violation)",
    ldap.OBJECT_CLASS_VIOLATION: "the entry's object classes do not allow {a}",
    ldap.INVALID_SYNTAX: "the value is not valid for {a}'s syntax",
    ldap.UNDEFINED_TYPE: "the directory's schema has no attribute {a}",
    ldap.UNWILLING_TO_PERFORM: "the directory is unwilling to change {a}",
    ldap.NO_SUCH_OBJECT: "the entry no longer exists",
    ldap.NOT_ALLOWED_ON_RDN: "{a} is part of the entry's name (its RDN) and cannot be changed "
                             "by a modify",
    ldap.NAMING_VIOLATION: "{a} is part of the entry's name (its RDN) and cannot be changed "
                           "by a modify",
    ldap.INAPPROPRIATE_MATCHING: "the directory has no way to compare values of {a}",
    ldap.UNAVAILABLE_CRITICAL_EXTENSION: "the directory does not support the control the "
                                         "conditional write of {a} needs",
    ldap.STRONG_AUTH_REQUIRED: "the directory accepts writes of {a} only over an encrypted "
                               "connection",
    ldap.CONFIDENTIALITY_REQUIRED: "the directory accepts writes of {a} only over an encrypted "
                                   "connection",
}
_VALUE_HINT = "enter a value the directory accepts for this field"
_SETUP_HINT = "check the field's LDAP attribute and the entry's object classes"
_RDN_HINT = ("map the field to an attribute that is not part of the entry's DN, or turn "
             "write-back off for this field")
REFUSAL_HINTS = {
    ldap.CONSTRAINT_VIOLATION: _VALUE_HINT,
    ldap.INVALID_SYNTAX: _VALUE_HINT,
    ldap.OBJECT_CLASS_VIOLATION: _SETUP_HINT,
    ldap.UNDEFINED_TYPE: _SETUP_HINT,
    ldap.INAPPROPRIATE_MATCHING: _SETUP_HINT,
    ldap.NO_SUCH_OBJECT: "the person's entry was moved or deleted; the next sync finds it",
    ldap.NOT_ALLOWED_ON_RDN: _RDN_HINT,
    ldap.NAMING_VIOLATION: _RDN_HINT,
    ldap.UNWILLING_TO_PERFORM: ("the server or its database may be read-only: point the "
                                "directory at a server that accepts writes, or ask its "
                                "administrator"),
    ldap.STRONG_AUTH_REQUIRED: "use an ldaps:// URL or turn on StartTLS",
    ldap.CONFIDENTIALITY_REQUIRED: "use an ldaps:// URL or turn on StartTLS",
}
# Answers that mean "not now": the edit is kept pending and retried with backoff.
TRANSIENT_ANSWERS = (ldap.BUSY, ldap.UNAVAILABLE, ldap.ADMINLIMIT_EXCEEDED,
                     ldap.TIMELIMIT_EXCEEDED, ldap.OTHER, ldap.LOOP_DETECT)
UNREACHABLE_ANSWERS = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR)
# Answers to a conditional modify that mean "the values are not what the person saw".
CONFLICT_ANSWERS = (ldap.ASSERTION_FAILED, ldap.NO_SUCH_ATTRIBUTE, ldap.TYPE_OR_VALUE_EXISTS,
                    ldap.CONSTRAINT_VIOLATION)

_URL = re.compile(r"ldaps?://[^\s]+", re.IGNORECASE)


def ldap_write_error(exc: ldap.LDAPError, attribute: str, dn: str) -> DirectoryError:
    """The typed error for any python-ldap error of a write (never a raw ``ldap`` one)."""
    text = describe_ldap_error(exc)
    if isinstance(exc, UNREACHABLE_ANSWERS):
        return DirectoryUnreachable(f"the directory stopped answering: {text}")
    if isinstance(exc, ldap.REFERRAL):
        # "Referral:\nldap://provider:389/uid=ann,..." names the entry there; the
        # directory's setting wants the server, so the URL's path is left off.
        urls = tuple(dict.fromkeys(_server_url(u) for u in _URL.findall(text)))
        where = ", ".join(urls) or "another server"
        return WriteReferred(
            f"this server is a read-only replica and refers writes to {where}",
            referral_urls=urls,
            hint=f"add the provider's URL ({where}) to the directory, first, so writes go to it")
    if isinstance(exc, TRANSIENT_ANSWERS):
        return DirectoryBusy(f"the directory could not write {attribute} now: {text}")
    template = REFUSALS.get(type(exc))
    if template is not None:
        return WriteRefused(f"{template.format(a=attribute)}: {text}",
                            hint=REFUSAL_HINTS.get(type(exc)))
    return WriteRefused(f"the directory refused to write {attribute} of {dn}: {text}",
                        hint="the directory's message says why; check the server's log")


def _server_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class WriteResult:
    written: bool
    method: str  # "assertion", "value-delta", "entry-assertion" or "compare-then-write"


@dataclass(frozen=True)
class AttributeKind:
    """What the schema says about an attribute, as far as writing it conditionally goes."""

    single_valued: bool
    equality: bool


def choose_method(kind: AttributeKind, *, assertion: bool, entry_csn: bool) -> str:
    """How to make the write conditional (see the module docstring and the docs' table)."""
    if not assertion:
        # Active Directory matches every value exactly (binary too): delete old, add new.
        return "value-delta"
    if not kind.equality:
        return "entry-assertion" if entry_csn else "compare-then-write"
    return "assertion" if kind.single_valued else "value-delta"


def assertion_filter(attribute: str, expected: list[bytes]) -> str:
    """A filter true only while ``attribute`` holds every expected value (none: absent)."""
    if not expected:
        return f"(!({attribute}=*))"
    parts = "".join(f"({attribute}={escape_bytes(v)})" for v in expected)
    return parts if len(expected) == 1 else f"(&{parts})"


def escape_bytes(value: bytes) -> str:
    """Filter-escape any bytes: printable ASCII stays, everything else becomes ``\\xx``."""
    out = []
    for byte in value:
        char = chr(byte)
        if char in "*()\\" or byte < 0x20 or byte > 0x7E:
            out.append(f"\\{byte:02x}")
        else:
            out.append(char)
    return "".join(out)


def read_attributes(conn: LDAPObject, dn: str, attributes: list[str]) -> dict[str, list[bytes]] | None:
    """The entry's values of ``attributes`` (keys lower-case); None when there is no entry."""
    try:
        result = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", attributes)
    except ldap.NO_SUCH_OBJECT:
        return None
    except ldap.LDAPError as exc:
        raise ldap_write_error(exc, ", ".join(attributes), dn) from exc
    if not result or result[0][0] is None:
        return None
    return {k.lower(): v for k, v in result[0][1].items()}


def read_values(conn: LDAPObject, dn: str, attribute: str) -> list[bytes]:
    """Exactly the values held under ``attribute``'s own name (never ``;range=`` slices)."""
    found = read_attributes(conn, dn, [attribute])
    if found is None:
        raise WriteRefused(f"the entry {dn!r} no longer exists",
                           hint=REFUSAL_HINTS[ldap.NO_SUCH_OBJECT])
    return found.get(attribute.lower(), [])


def find_entry_by_unique_id(conn: LDAPObject, base: str, attribute: str,
                            value: bytes) -> str | None:
    """The DN of the one entry under ``base`` whose ``attribute`` is ``value``, else None."""
    filterstr = f"({attribute}={escape_bytes(value)})"
    try:
        result = conn.search_ext_s(base, ldap.SCOPE_SUBTREE, filterstr, ["1.1"], sizelimit=2)
    except ldap.NO_SUCH_OBJECT:
        return None
    except ldap.LDAPError as exc:
        raise ldap_write_error(exc, attribute, base) from exc
    dns = [dn for dn, _attrs in result if dn]
    return dns[0] if len(dns) == 1 else None


def write_attribute(conn: LDAPObject, dn: str, attribute: str, new: list[bytes],
                    expected: list[bytes], *, method: str) -> WriteResult:
    """Change ``attribute`` from ``expected`` to ``new`` by ``method`` (see
    :func:`choose_method`), or raise :class:`WriteConflict` with what it holds now."""
    try:
        if method == "value-delta":
            _write_delta(conn, dn, attribute, new, expected)
        elif method == "assertion":
            _write_asserting(conn, dn, attribute, new, assertion_filter(attribute, expected))
        elif method == "entry-assertion":
            _write_asserting_entry(conn, dn, attribute, new, expected)
        else:
            current = read_values(conn, dn, attribute)
            if sorted(current) != sorted(expected):
                raise WriteConflict(attribute, current)
            conn.modify_s(dn, [(ldap.MOD_REPLACE, attribute, new or None)])
    except ldap.LDAPError as exc:
        raise ldap_write_error(exc, attribute, dn) from exc
    return WriteResult(True, method)


def _write_delta(conn: LDAPObject, dn: str, attribute: str, new: list[bytes],
                 expected: list[bytes]) -> None:
    removed = [v for v in expected if v not in new]
    added = [v for v in new if v not in expected]
    modlist = []
    if removed:
        modlist.append((ldap.MOD_DELETE, attribute, removed))
    if added:
        modlist.append((ldap.MOD_ADD, attribute, added))
    if not modlist:
        return
    try:
        conn.modify_s(dn, modlist)
    except CONFLICT_ANSWERS as exc:
        current = read_values(conn, dn, attribute)
        # Absent when seen, present now: someone set a single-valued attribute meanwhile.
        if not _still_as_seen(current, removed, added) or (current and not expected):
            raise WriteConflict(attribute, current) from None
        raise ldap_write_error(exc, attribute, dn) from exc


def _still_as_seen(current: list[bytes], removed: list[bytes], added: list[bytes]) -> bool:
    """Whether the delta still applies: every removed value there, no added value yet."""
    folded = {v.lower() for v in current}
    return (all(v.lower() in folded for v in removed)
            and not any(v.lower() in folded for v in added))


def _write_asserting(conn: LDAPObject, dn: str, attribute: str, new: list[bytes],
                     filterstr: str) -> None:
    try:
        conn.modify_ext_s(dn, [(ldap.MOD_REPLACE, attribute, new or None)],
                          serverctrls=[AssertionControl(True, filterstr)])
    except ldap.ASSERTION_FAILED:
        raise WriteConflict(attribute, read_values(conn, dn, attribute)) from None


def _write_asserting_entry(conn: LDAPObject, dn: str, attribute: str, new: list[bytes],
                           expected: list[bytes], tries: int = 3) -> None:
    """Compare, then replace asserting the entryCSN read with the values: no window.

    Another attribute of the entry changing in between fails the assertion too; the
    values are then read and compared again (a few times) before calling it a conflict.
    """
    for _ in range(tries):
        found = read_attributes(conn, dn, [attribute, "entryCSN"])
        if found is None:
            raise WriteRefused(f"the entry {dn!r} no longer exists",
                               hint=REFUSAL_HINTS[ldap.NO_SUCH_OBJECT])
        current = found.get(attribute.lower(), [])
        if sorted(current) != sorted(expected):
            raise WriteConflict(attribute, current)
        csns = found.get("entrycsn", [])
        if not csns:
            conn.modify_s(dn, [(ldap.MOD_REPLACE, attribute, new or None)])
            return
        try:
            conn.modify_ext_s(dn, [(ldap.MOD_REPLACE, attribute, new or None)], serverctrls=[
                AssertionControl(True, f"(entryCSN={escape_bytes(csns[0])})")])
            return
        except ldap.ASSERTION_FAILED:
            continue
    raise WriteConflict(attribute, read_values(conn, dn, attribute))


def attribute_kind(conn: LDAPObject, dn: str, attribute: str) -> AttributeKind:
    """Single-valued? Equality rule? From the subschema governing ``dn``.

    An attribute the schema does not describe is taken as multi-valued with an
    equality rule: a value delta is exact for both kinds, so that guess is safe.
    """
    from .schema import check_attribute, read_subschema

    check = check_attribute(read_subschema(conn, dn), attribute, [])
    if not check.exists:
        return AttributeKind(single_valued=False, equality=True)
    return AttributeKind(single_valued=check.single_valued, equality=check.has_equality_rule)


def supports_assertion(root_dse: dict[str, list[bytes]]) -> bool:
    return ldap.CONTROL_ASSERT.encode() in root_dse.get("supportedcontrol", [])


def has_entry_csn(root_dse: dict[str, list[bytes]]) -> bool:
    """OpenLDAP keeps ``entryCSN`` on every entry; it names its own controls and extensions
    under its OID arc 1.3.6.1.4.1.4203 (WhoAmI, password modify, syncrepl...)."""
    offered = root_dse.get("supportedcontrol", []) + root_dse.get("supportedextension", [])
    return any(oid.startswith(b"1.3.6.1.4.1.4203.") for oid in offered)


__all__ = ["AttributeKind", "DirectoryError", "WriteConflict", "WriteRefused",
           "WriteResult", "attribute_kind", "choose_method", "find_entry_by_unique_id",
           "has_entry_csn", "ldap_write_error", "read_attributes", "read_values",
           "supports_assertion", "write_attribute"]
