"""The directory reads and the one harmless write behind "Save and test connection".

The write rewrites exactly the values the attribute holds, read under the
attribute's own name. When they cannot be read whole (``member;range=0-1499``,
``userCertificate;binary``, or values the service account cannot read) the
write is skipped with the reason: a replace with a partial read would delete
the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

import ldap
import ldap.controls
from ldap.controls.libldap import AssertionControl
from ldap.ldapobject import LDAPObject

from .errors import DirectoryError, describe_ldap_error
from .modify import assertion_filter, ldap_write_error


def connection_uri(conn: LDAPObject) -> str:
    """The URL this connection is talking to (the first of the directory's that answered)."""
    return str(conn.get_option(ldap.OPT_URI))


def search_base_problem(conn: LDAPObject, base: str) -> str | None:
    """Why ``base`` cannot be searched, or None when it can."""
    try:
        conn.search_ext_s(base, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"], sizelimit=1)
    except ldap.NO_SUCH_OBJECT:
        return (f"{base!r} does not exist; check the base DN and the additional user DN "
                "(look them up with ldapsearch)")
    except ldap.LDAPError as exc:
        return f"{base!r} cannot be searched: {describe_ldap_error(exc)}"
    return None


@dataclass(frozen=True)
class RewriteResult:
    ok: bool
    written: bool  # False when the write was skipped
    detail: str


def rewrite_own_values(conn: LDAPObject, dn: str, attribute: str, *, assertion: bool,
                       equality: bool) -> RewriteResult:
    """Write ``attribute`` of ``dn`` with the values it holds: the entry stays as it was.

    With the assertion control the write is conditional on those very values (or on
    absence), so neither a change landing meanwhile nor a value the account cannot
    read is overwritten.
    """
    try:
        result = conn.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", [attribute])
    except ldap.LDAPError as exc:
        raise ldap_write_error(exc, attribute, dn) from exc
    returned = result[0][1] if result and result[0][0] else {}
    own = [name for name in returned if name.lower() == attribute.lower()]
    other = [name for name in returned if name.lower() != attribute.lower()]
    if other:
        return RewriteResult(False, False, (
            f"not tested: {attribute} came back as {', '.join(other)}, not whole under its own "
            "name, so writing it back could delete values; test another attribute or user"))
    current = returned[own[0]] if own else []
    conditional = assertion and (equality or not current)
    if not current and not conditional:
        return _delete_absent_value(conn, dn, attribute)
    controls = [AssertionControl(True, assertion_filter(attribute, current))] if conditional else []
    try:
        conn.modify_ext_s(dn, [(ldap.MOD_REPLACE, attribute, current or None)],
                          serverctrls=controls)
    except ldap.ASSERTION_FAILED:
        return RewriteResult(False, False, (
            f"not tested: {attribute} of {dn} holds values the service account cannot read, "
            "or changed while testing; writing it back could change it"))
    except ldap.LDAPError as exc:
        error: DirectoryError = ldap_write_error(exc, attribute, dn)
        return RewriteResult(False, False, str(error))
    return RewriteResult(True, True, f"wrote {attribute} of {dn} with its own "
                                     f"{len(current)} value(s): unchanged")


# LDAP_SERVER_PERMISSIVE_MODIFY_OID: AD answers success instead of noSuchAttribute.
PERMISSIVE_MODIFY = "1.2.840.113556.1.4.1413"
_NEVER_A_VALUE = b"profilesync write test: this value is never stored"


def _delete_absent_value(conn: LDAPObject, dn: str, attribute: str) -> RewriteResult:
    """Without the assertion control and with no value to write back (Active Directory):
    delete one value the attribute cannot hold. That changes nothing whatever the entry
    holds, and the server still checks the right to write the attribute first."""
    try:
        conn.modify_ext_s(dn, [(ldap.MOD_DELETE, attribute, [_NEVER_A_VALUE])],
                          serverctrls=[ldap.controls.LDAPControl(PERMISSIVE_MODIFY, False)])
    except ldap.NO_SUCH_ATTRIBUTE:
        pass  # the server checked the right, then found nothing to delete
    except (ldap.INVALID_SYNTAX, ldap.CONSTRAINT_VIOLATION):
        return RewriteResult(False, False, (
            f"not tested: {dn} has no value of {attribute} to write back, and no harmless "
            "write fits its syntax; test a user who has a value"))
    except ldap.LDAPError as exc:
        return RewriteResult(False, False, str(ldap_write_error(exc, attribute, dn)))
    return RewriteResult(True, True, f"deleted a value {attribute} of {dn} cannot hold: "
                                     "allowed, and the entry is unchanged")
