"""Reads of the root DSE and naming-context attributes: what a server offers and its clock."""

from __future__ import annotations

import ldap
from ldap.ldapobject import LDAPObject

from .errors import DirectoryUnreachable, describe_ldap_error

ROOT_DSE_ATTRIBUTES = ("namingContexts", "supportedControl", "supportedExtension",
                       "currentTime", "highestCommittedUSN", "dsServiceName", "vendorName",
                       "vendorVersion")


def read_root_dse(conn: LDAPObject) -> dict[str, list[bytes]]:
    """The root DSE's attributes, keys lower-case; empty when the server hides it."""
    try:
        result = conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)", list(ROOT_DSE_ATTRIBUTES))
    except (ldap.SERVER_DOWN, ldap.TIMEOUT) as exc:
        raise DirectoryUnreachable(f"the directory stopped answering: {describe_ldap_error(exc)}") from exc
    except ldap.LDAPError:
        return {}
    if not result:
        return {}
    return {name.lower(): values for name, values in result[0][1].items()}


def naming_context_of(dn: str, root_dse: dict[str, list[bytes]]) -> str | None:
    """The naming context (suffix) that holds ``dn``, by case-insensitive DN suffix."""
    target = ldap.dn.str2dn(dn.lower()) if dn else []
    best: str | None = None
    for raw in root_dse.get("namingcontexts", []):
        context = raw.decode("utf-8")
        parts = ldap.dn.str2dn(context.lower()) if context else []
        if parts and target[-len(parts):] == parts and (best is None or len(context) > len(best)):
            best = context
    return best


def read_context_csns(conn: LDAPObject, context_dn: str) -> list[str]:
    """``contextCSN`` values of a naming context (OpenLDAP with syncprov); [] if unreadable."""
    try:
        result = conn.search_s(context_dn, ldap.SCOPE_BASE, "(objectClass=*)", ["contextCSN"])
    except ldap.LDAPError:
        return []
    if not result:
        return []
    attributes = {name.lower(): values for name, values in result[0][1].items()}
    return [v.decode("ascii") for v in attributes.get("contextcsn", [])]
