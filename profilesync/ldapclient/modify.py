"""Writing one attribute of one entry, only if it still holds what the person saw.

With the LDAP assertion control (RFC 4528) the check and the write are one
operation on the server. Where the server lacks the control (Active
Directory) or the attribute has no equality rule to assert with (jpegPhoto),
the values are read and compared right before the write; a change landing in
that window (a few milliseconds) would be overwritten, which docs/ says.
"""

from __future__ import annotations

from dataclasses import dataclass

import ldap
from ldap.controls.libldap import AssertionControl
from ldap.ldapobject import LDAPObject

from .errors import DirectoryError, DirectoryUnreachable, describe_ldap_error


class WriteConflict(Exception):
    """The entry no longer holds the values the person saw; nothing was written."""

    def __init__(self, attribute: str, current: list[bytes]):
        self.attribute = attribute
        self.current = current
        super().__init__(f"{attribute} was changed in the directory meanwhile")


class WriteRefused(DirectoryError):
    """The directory refused the write for good (access, schema, constraint)."""

    setting = "bind_dn"
    hint = "ask the directory's administrator to allow the service account to write it"


REFUSALS = {
    ldap.INSUFFICIENT_ACCESS: "insufficient access: the service account may not write {a}",
    ldap.CONSTRAINT_VIOLATION: "the directory refused the value of {a} (constraint violation)",
    ldap.OBJECT_CLASS_VIOLATION: "the entry's object classes do not allow {a}",
    ldap.INVALID_SYNTAX: "the value is not valid for {a}'s syntax",
    ldap.UNDEFINED_TYPE: "the directory's schema has no attribute {a}",
    ldap.UNWILLING_TO_PERFORM: "the directory is unwilling to change {a}",
    ldap.NO_SUCH_OBJECT: "the entry no longer exists",
}
_VALUE_HINT = "enter a value the directory accepts for this field"
_SETUP_HINT = "check the field's LDAP attribute and the entry's object classes"
REFUSAL_HINTS = {
    ldap.CONSTRAINT_VIOLATION: _VALUE_HINT,
    ldap.INVALID_SYNTAX: _VALUE_HINT,
    ldap.OBJECT_CLASS_VIOLATION: _SETUP_HINT,
    ldap.UNDEFINED_TYPE: _SETUP_HINT,
    ldap.NO_SUCH_OBJECT: "the person's entry was moved or deleted; the next sync finds it",
}


@dataclass(frozen=True)
class WriteResult:
    written: bool
    method: str  # "assertion" or "compare-then-write"


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


def read_values(conn: LDAPObject, dn: str, attribute: str) -> list[bytes]:
    try:
        result = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", [attribute])
    except ldap.NO_SUCH_OBJECT as exc:
        raise WriteRefused(f"the entry {dn!r} no longer exists") from exc
    except (ldap.SERVER_DOWN, ldap.TIMEOUT) as exc:
        raise DirectoryUnreachable(
            f"the directory stopped answering: {describe_ldap_error(exc)}") from exc
    if not result:
        return []
    return next((v for k, v in result[0][1].items() if k.lower() == attribute.lower()), [])


def write_attribute(conn: LDAPObject, dn: str, attribute: str, new: list[bytes],
                    expected: list[bytes], *, use_assertion: bool) -> WriteResult:
    """Replace ``attribute`` with ``new`` (delete it when empty) if it still holds ``expected``."""
    modlist = [(ldap.MOD_REPLACE, attribute, new or None)]
    try:
        if use_assertion:
            try:
                conn.modify_ext_s(dn, modlist, serverctrls=[
                    AssertionControl(True, assertion_filter(attribute, expected))])
                return WriteResult(True, "assertion")
            except ldap.ASSERTION_FAILED:
                raise WriteConflict(attribute, read_values(conn, dn, attribute)) from None
        current = read_values(conn, dn, attribute)
        if sorted(current) != sorted(expected):
            raise WriteConflict(attribute, current)
        conn.modify_s(dn, modlist)
        return WriteResult(True, "compare-then-write")
    except tuple(REFUSALS) as exc:
        template = REFUSALS[type(exc)]
        raise WriteRefused(f"{template.format(a=attribute)}: {describe_ldap_error(exc)}",
                           hint=REFUSAL_HINTS.get(type(exc))) from exc
    except (ldap.SERVER_DOWN, ldap.TIMEOUT) as exc:
        raise DirectoryUnreachable(
            f"the directory stopped answering: {describe_ldap_error(exc)}") from exc


def supports_assertion(root_dse: dict[str, list[bytes]]) -> bool:
    return ldap.CONTROL_ASSERT.encode() in root_dse.get("supportedcontrol", [])
