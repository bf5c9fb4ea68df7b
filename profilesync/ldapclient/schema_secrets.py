"""Which attributes a directory's own schema marks as holding secrets, where it can tell.

Two marks exist in the wild:

* RFC 4512 inheritance: an attribute type whose ``SUP`` chain reaches a known
  secret (``userPassword``, ``authPassword``, ...) holds the same kind of value;
  so does any attribute with the ``authPasswordSyntax`` (RFC 3112) syntax.
* Active Directory: an ``attributeSchema`` entry with the CONFIDENTIAL bit (0x80)
  of ``searchFlags`` (MS-ADTS 3.1.1.2.3), e.g. BitLocker recovery passwords or the
  LAPS password ``ms-Mcs-AdmPwd``.

OpenLDAP has no "confidential" mark of its own; the inheritance rule covers what
its schemas derive from ``userPassword``.
"""

from __future__ import annotations

import ldap
import ldap.schema
from ldap.ldapobject import LDAPObject

from .schema import read_subschema

AUTH_PASSWORD_SYNTAX = "1.3.6.1.4.1.4203.1.1.2"
# MS-ADTS 2.2.10 searchFlags: fCONFIDENTIAL.
AD_CONFIDENTIAL = 0x80
_MAX_SUP_DEPTH = 10


def secret_attributes_in_schema(conn: LDAPObject, known_secrets: set[str]) -> dict[str, str]:
    """``{lower-case attribute name: why}`` for the schema's secret attributes (names only
    the schema adds; ``known_secrets`` are lower-case names already refused)."""
    found = secrets_in_subschema(read_subschema(conn), known_secrets)
    found.update(_ad_confidential(conn))
    return found


def secrets_in_subschema(subschema: ldap.schema.SubSchema,
                         known_secrets: set[str]) -> dict[str, str]:
    """The inheritance and syntax rules over a parsed subschema (no server needed)."""
    found: dict[str, str] = {}
    for oid in subschema.listall(ldap.schema.AttributeType):
        attribute_type = subschema.get_obj(ldap.schema.AttributeType, oid)
        names = [name.lower() for name in (attribute_type.names or ())]
        if not names or any(name in known_secrets for name in names):
            continue
        why = _secret_by_inheritance(subschema, attribute_type, known_secrets)
        if why:
            for name in names:
                found[name] = why
    return found


def _secret_by_inheritance(subschema, attribute_type, known_secrets: set[str]) -> str:
    current, depth = attribute_type, 0
    while current is not None and depth < _MAX_SUP_DEPTH:
        if current.syntax and current.syntax.split("{")[0] == AUTH_PASSWORD_SYNTAX:
            return "the directory's schema gives it the authPassword syntax (password hashes)"
        if depth and any(name.lower() in known_secrets for name in current.names or ()):
            return f"the directory's schema derives it from {current.names[0]} (a password)"
        if not current.sup:
            return ""
        current = subschema.get_obj(ldap.schema.AttributeType, current.sup[0])
        depth += 1
    return ""


def _ad_confidential(conn: LDAPObject) -> dict[str, str]:
    """Active Directory's confidential attributes; empty on any other server."""
    schema_dn = schema_naming_context(conn)
    if not schema_dn:
        return {}
    try:
        result = conn.search_s(
            schema_dn, ldap.SCOPE_ONELEVEL,
            f"(&(objectClass=attributeSchema)(searchFlags:1.2.840.113556.1.4.803:="
            f"{AD_CONFIDENTIAL}))", ["lDAPDisplayName"])
    except ldap.LDAPError:
        return {}
    found = {}
    for _dn, attributes in result:
        if not isinstance(attributes, dict):
            continue  # a referral
        for value in attributes.get("lDAPDisplayName", []):
            found[value.decode("utf-8", "replace").lower()] = (
                "Active Directory's schema marks it confidential")
    return found


def schema_naming_context(conn: LDAPObject) -> str:
    """Active Directory's ``schemaNamingContext``; "" elsewhere."""
    try:
        result = conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", ["schemaNamingContext"])
    except ldap.LDAPError:
        return ""
    if not result or not isinstance(result[0][1], dict):
        return ""
    values = {k.lower(): v for k, v in result[0][1].items()}.get("schemanamingcontext")
    return values[0].decode("utf-8") if values else ""

