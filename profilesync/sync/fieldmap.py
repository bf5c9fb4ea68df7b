"""Which LDAP attribute feeds which profile field, for one directory.

Built once per directory per run (two queries), then used for every entry.
Attribute names are kept lower-case because LDAP attribute names are
case-insensitive and servers answer in their schema's spelling.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from profilesync.directories.models import Directory
from profilesync.profiles.models import FieldAttributeOverride, ProfileField


@dataclass(frozen=True)
class MappedField:
    key: str
    type: str
    attribute: str  # lower-case


@dataclass(frozen=True)
class AttributeMap:
    """The attributes a sync of one directory requests, and what each becomes."""

    fields: tuple[MappedField, ...]
    unique_id_attribute: str  # lower-case
    username_attribute: str  # lower-case
    status_attributes: tuple[str, ...]  # lower-case
    # Everything that enters an entry's digest, in a fixed order.
    digest_attributes: tuple[str, ...]
    # Changes whenever the mapping changes, so every digest changes with it.
    signature: bytes

    @property
    def requested_attributes(self) -> list[str]:
        """Attribute names to ask the server for (the unique ID is operational on OpenLDAP)."""
        return [self.unique_id_attribute, *self.digest_attributes]


def build_attribute_map(directory: Directory) -> AttributeMap:
    overrides = dict(
        FieldAttributeOverride.objects.filter(directory=directory).values_list(
            "field_id", "ldap_attribute"
        )
    )
    mapped: list[MappedField] = []
    for field in ProfileField.objects.order_by("position", "key"):
        attribute = overrides.get(field.pk, field.ldap_attribute)
        if attribute:
            mapped.append(MappedField(field.key, field.type, attribute.lower()))
    return make_attribute_map(
        mapped,
        unique_id_attribute=directory.effective_unique_id_attribute,
        username_attribute=directory.effective_username_attribute,
        status_attributes=directory.vendor_info.status_attributes,
    )


def make_attribute_map(
    fields: list[MappedField],
    *,
    unique_id_attribute: str,
    username_attribute: str,
    status_attributes: tuple[str, ...] = (),
) -> AttributeMap:
    """Assemble an :class:`AttributeMap` from plain values (no database needed)."""
    username = username_attribute.lower()
    status = tuple(a.lower() for a in status_attributes)
    digest_attributes = sorted({username, *status, *(f.attribute for f in fields)})
    signature_text = "|".join(
        [unique_id_attribute.lower(), username, *status]
        + [f"{f.key}:{f.type}:{f.attribute}" for f in fields]
    )
    return AttributeMap(
        fields=tuple(fields),
        unique_id_attribute=unique_id_attribute.lower(),
        username_attribute=username,
        status_attributes=status,
        digest_attributes=tuple(digest_attributes),
        signature=hashlib.blake2b(signature_text.encode(), digest_size=16).digest(),
    )
