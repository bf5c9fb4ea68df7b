"""The directory's schema: does an attribute exist, and may this entry hold it?"""

from __future__ import annotations

from dataclasses import dataclass

import ldap
import ldap.schema
from ldap.ldapobject import LDAPObject

from .errors import SearchFailed, describe_ldap_error
from .rootdse import read_root_dse

SCHEMA_ATTRIBUTES = ["attributeTypes", "objectClasses", "ditContentRules", "matchingRules",
                     "ldapSyntaxes"]


def read_subschema(conn: LDAPObject, entry_dn: str = "") -> ldap.schema.SubSchema:
    """The subschema governing ``entry_dn`` (or the server's, from the root DSE)."""
    subschema_dn = None
    try:
        result = conn.search_s(entry_dn, ldap.SCOPE_BASE, "(objectClass=*)",
                               ["subschemaSubentry"])
        if result:
            values = {k.lower(): v for k, v in result[0][1].items()}.get("subschemasubentry")
            subschema_dn = values[0].decode() if values else None
    except ldap.LDAPError:
        subschema_dn = None
    if subschema_dn is None:
        dse = read_root_dse(conn)
        subschema_dn = "cn=Subschema"
        if dse.get("subschemasubentry"):
            subschema_dn = dse["subschemasubentry"][0].decode()
    try:
        result = conn.search_s(subschema_dn, ldap.SCOPE_BASE, "(objectClass=subschema)",
                               SCHEMA_ATTRIBUTES)
    except ldap.LDAPError as exc:
        raise SearchFailed(f"cannot read the schema at {subschema_dn!r}: "
                           f"{describe_ldap_error(exc)}", setting="bind_dn",
                           hint="the service account must be able to read the subschema entry") from exc
    raw = {name: [v.decode("utf-8") for v in values] for name, values in result[0][1].items()}
    return ldap.schema.SubSchema(raw, check_uniqueness=0)


@dataclass(frozen=True)
class AttributeCheck:
    exists: bool
    allowed: bool
    name: str  # the schema's own spelling, when it exists
    single_valued: bool
    has_equality_rule: bool
    reason: str


def check_attribute(subschema: ldap.schema.SubSchema, attribute: str,
                    object_classes: list[str]) -> AttributeCheck:
    """Whether ``attribute`` is defined, and allowed (MUST or MAY) by ``object_classes``."""
    attribute_type = subschema.get_obj(ldap.schema.AttributeType, attribute)
    if attribute_type is None:
        return AttributeCheck(False, False, attribute, False, False,
                              f"the directory's schema has no attribute {attribute!r}")
    name = attribute_type.names[0] if attribute_type.names else attribute
    equality = bool(_inherited(subschema, attribute_type, "equality"))
    single = bool(attribute_type.single_value)
    if any(oc.lower() == "extensibleobject" for oc in object_classes):
        return AttributeCheck(True, True, name, single, equality, "allowed (extensibleObject)")
    must, may = subschema.attribute_types(object_classes, raise_keyerror=0)
    if attribute_type.oid in must or attribute_type.oid in may:
        return AttributeCheck(True, True, name, single, equality,
                              f"allowed by the object classes {', '.join(object_classes)}")
    return AttributeCheck(True, False, name, single, equality,
                          f"{name} is not allowed by the entry's object classes "
                          f"{', '.join(object_classes)}; add an object class that allows it")


def _inherited(subschema: ldap.schema.SubSchema, attribute_type, what: str):
    """A property of an attribute type, following SUP like the server does."""
    seen = 0
    while attribute_type is not None and seen < 10:
        value = getattr(attribute_type, what, None)
        if value:
            return value
        if not attribute_type.sup:
            return None
        attribute_type = subschema.get_obj(ldap.schema.AttributeType, attribute_type.sup[0])
        seen += 1
    return None
