"""Creating and changing profile fields, shared by the CLI, web pages and API."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction

from profilesync.accounts.permissions import MAP_FIELDS
from profilesync.accounts.roles import Role
from profilesync.directories.models import Directory
from profilesync.directories.secret_attributes import refuse_secret_attribute
from profilesync.directories.validation import check_attribute_name
from profilesync.errors import InvalidSetting

from .field_order import next_position
from .models import WRITE_BACK_REFUSED_TYPES, FieldAttributeOverride, FieldType, ProfileField

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise InvalidSetting(
            "key", f"{key!r} must start with a letter and use only a-z, 0-9 and _, e.g. office_phone"
        )
    return key


def check_visible_to(roles: list[str]) -> list[str]:
    """Roles that see a field on other people's profiles; empty: everyone."""
    known = [role.value for role in Role]
    unknown = [role for role in roles if role not in known]
    if unknown:
        raise InvalidSetting("visible_to", f"{', '.join(unknown)}: not a role; use {', '.join(known)}")
    return [role for role in known if role in roles]


def _apply(field: ProfileField, options: dict[str, Any]) -> None:
    changes: dict[str, Any] = {}
    if options.get("type") is not None:
        if options["type"] not in FieldType.values:
            raise InvalidSetting("type", f"must be one of {', '.join(FieldType.values)}")
        changes["type"] = options["type"]
    if options.get("label") is not None:
        if not options["label"].strip():
            raise InvalidSetting("label", "must not be empty")
        changes["label"] = options["label"].strip()
    for name in ("help_text", "category"):
        if options.get(name) is not None:
            changes[name] = options[name].strip()
    if options.get("options") is not None:
        changes["options"] = [o.strip() for o in options["options"].split(",") if o.strip()]
    for name in ("required", "shown_in_profile", "searchable", "write_back"):
        if options.get(name) is not None:
            changes[name] = bool(options[name])
    if options.get("ldap_attribute") is not None:
        changes["ldap_attribute"] = check_attribute_name(options["ldap_attribute"],
                                                         "ldap_attribute")
        if changes["ldap_attribute"] != field.ldap_attribute:
            refuse_secret_attribute(changes["ldap_attribute"], "ldap_attribute",
                                    Directory.objects.all())
    if options.get("visible_to") is not None:
        changes["visible_to"] = check_visible_to(options["visible_to"])
    field_type = changes.get("type", field.type)
    write_back = changes.get("write_back", field.write_back)
    if write_back and field_type in WRITE_BACK_REFUSED_TYPES:
        raise InvalidSetting(
            "write_back",
            f"a {field_type} field cannot be written back to LDAP (directories store dates in "
            "notations no schema tells us); keep it read-only or use a text field",
        )
    if field_type in (FieldType.SELECT, FieldType.MULTISELECT) and "options" in changes:
        if len(set(changes["options"])) != len(changes["options"]):
            raise InvalidSetting("options", "lists the same option twice")
    for name, value in changes.items():
        setattr(field, name, value)


def check_may_map(actor, field: ProfileField | None, options: dict[str, Any],
                  directory: Directory | None = None) -> None:
    """Refuse ``actor`` (a web login; None: the operator's CLI) a change of where a field
    comes from or whether it writes back, unless they are a System Administrator.

    A field's LDAP attribute decides what everyone sees and, with write-back, what
    everyone may write, so it is as strong as write-back itself.
    """
    if actor is None or actor.has_perm(MAP_FIELDS):
        return
    current_attribute = field.ldap_attribute if field is not None else ""
    changes_source = (directory is not None or (
        options.get("ldap_attribute") is not None
        and options["ldap_attribute"].strip() != current_attribute))
    changes_write_back = (options.get("write_back") is not None
                          and bool(options["write_back"]) != (field.write_back if field else False))
    if changes_source or changes_write_back:
        setting = "write_back" if changes_write_back and not changes_source else "ldap_attribute"
        raise InvalidSetting(setting, "only a System Administrator changes a field's LDAP "
                             "attribute, its per-directory attributes or its write-back")


@transaction.atomic
def create_field(key: str, options: dict[str, Any], *, actor=None) -> ProfileField:
    check_key(key)
    check_may_map(actor, None, options)
    if ProfileField.objects.filter(key=key).exists():
        raise InvalidSetting("key", f"a field {key!r} exists; use `field set {key}`")
    if not options.get("label"):
        raise InvalidSetting("label", "is required, e.g. Office phone")
    field = ProfileField(key=key, position=next_position())
    _apply(field, options)
    field.save()
    return field


@transaction.atomic
def update_field(field: ProfileField, options: dict[str, Any],
                 directory: Directory | None = None, *, actor=None) -> ProfileField:
    """Change a field; with ``directory``, ``ldap_attribute`` sets that directory's override.

    ``actor``: the web login asking (see :func:`check_may_map`); None for the CLI.
    """
    check_may_map(actor, field, options, directory if options.get("ldap_attribute") is not None
                  else None)
    if directory is not None and options.get("ldap_attribute") is not None:
        attribute = check_attribute_name(options["ldap_attribute"], "ldap_attribute")
        refuse_secret_attribute(attribute, "ldap_attribute", [directory])
        FieldAttributeOverride.objects.update_or_create(
            field=field, directory=directory, defaults={"ldap_attribute": attribute}
        )
        options = {**options, "ldap_attribute": None}
    _apply(field, options)
    field.save()
    return field


def attribute_for(field: ProfileField, directory: Directory) -> str:
    """The LDAP attribute that feeds ``field`` in ``directory`` (override first)."""
    override = field.overrides.filter(directory=directory).first()
    return override.ldap_attribute if override is not None else field.ldap_attribute


def remove_attribute_override(field: ProfileField, directory: Directory, *,
                              actor=None) -> None:
    """Let ``directory`` feed ``field`` from the field's own LDAP attribute again."""
    check_may_map(actor, field, {}, directory)
    FieldAttributeOverride.objects.filter(field=field, directory=directory).delete()
