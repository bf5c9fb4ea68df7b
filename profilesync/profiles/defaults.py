"""The profile fields every installation starts with.

They are created by a data migration, so exactly once per database: a default
field an administrator deleted does not come back on the next upgrade.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultField:
    key: str
    label: str
    type: str
    ldap_attribute: str
    category: str = "Contact"
    searchable: bool = False


DEFAULT_FIELDS = (
    DefaultField("display_name", "Name", "text", "displayName", "General", True),
    DefaultField("title", "Job title", "text", "title", "General", True),
    DefaultField("department", "Department", "select", "departmentNumber", "General", True),
    DefaultField("phone", "Phone", "phone", "telephoneNumber"),
    DefaultField("mail", "Email", "email", "mail", searchable=True),
    DefaultField("picture", "Profile picture", "picture", "jpegPhoto", "General"),
    # A DN on both OpenLDAP (inetOrgPerson) and AD: resolved by profiles.person_links.
    DefaultField("manager", "Manager", "person", "manager", "General"),
)


def create_default_fields(field_model, only: tuple[str, ...] | None = None) -> int:
    """Create the default fields whose keys are free; return how many were made.

    Takes the model class so the data migration can pass its historical model.
    ``only``: just these keys (a later migration adding one new default field must
    not bring back the others an administrator deleted).
    """
    existing = set(field_model.objects.values_list("key", flat=True))
    created = 0
    for position, spec in enumerate(DEFAULT_FIELDS):
        if spec.key in existing or (only is not None and spec.key not in only):
            continue
        field_model.objects.create(
            key=spec.key,
            label=spec.label,
            type=spec.type,
            ldap_attribute=spec.ldap_attribute,
            category=spec.category,
            searchable=spec.searchable,
            position=position,
        )
        created += 1
    return created
