"""Creating and changing directories, shared by the CLI, web pages and API."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from profilesync.errors import InvalidSetting
from profilesync.profiles.defaults import DEFAULT_FIELDS
from profilesync.profiles.models import FieldAttributeOverride, ProfileField

from . import validation
from .models import Directory, DirectoryType, Vendor

# Option name -> (model attribute, checker). Checkers take (value, option name).
_TEXT_SETTINGS = {
    "base_dn": lambda v, s: validation.check_dn(v, s),
    "user_dn": lambda v, s: validation.check_dn(v, s),
    "bind_dn": lambda v, s: validation.check_dn(v, s),
    "user_filter": validation.check_filter,
    "username_attribute": validation.check_attribute_name,
    "unique_id_attribute": validation.check_attribute_name,
    "ca_file": lambda v, s: v,
    "modify_timestamp_attribute": validation.check_attribute_name,
    "timestamp_pattern": validation.check_timestamp_pattern,
}


def apply_options(directory: Directory, options: dict[str, Any]) -> None:
    """Validate and set every option present (not None) on ``directory``.

    Raises :class:`InvalidSetting` naming the first bad option, before any
    attribute is changed, so a refused command leaves the directory as it was.
    """
    changes: dict[str, Any] = {}
    for name, check in _TEXT_SETTINGS.items():
        if options.get(name) is not None:
            changes[name] = check(options[name], name)
    if options.get("urls") is not None:
        urls = [u.strip() for raw in options["urls"] for u in raw.split(",") if u.strip()]
        if not urls:
            raise InvalidSetting("url", "give at least one URL, e.g. ldap://ldap.example.org")
        changes["urls"] = [validation.check_url(u) for u in urls]
    if options.get("type") is not None:
        if options["type"] not in DirectoryType.values:
            raise InvalidSetting("type", f"must be one of {', '.join(DirectoryType.values)}")
        changes["type"] = options["type"]
    if options.get("vendor") is not None:
        if options["vendor"] not in Vendor.values:
            raise InvalidSetting("vendor", f"must be one of {', '.join(Vendor.values)}")
        changes["vendor"] = options["vendor"]
    if options.get("start_tls") is not None:
        changes["start_tls"] = bool(options["start_tls"])
    if options.get("page_size") is not None:
        changes["page_size"] = int(validation.check_positive(options["page_size"], "page_size",
                                                             maximum=100000))
    for name in ("connect_timeout", "operation_timeout"):
        if options.get(name) is not None:
            changes[name] = validation.check_positive(options[name], name, maximum=3600)
    if options.get("max_deactivate_percent") is not None:
        changes["max_deactivate_share"] = validation.check_share_percent(
            options["max_deactivate_percent"], "max_deactivate_percent")
    if options.get("max_deactivate_percent_24h") is not None:
        changes["max_deactivate_share_24h"] = validation.check_share_percent(
            options["max_deactivate_percent_24h"], "max_deactivate_percent_24h")
    if options.get("deactivation_floor") is not None:
        changes["deactivation_floor"] = validation.check_count(
            options["deactivation_floor"], "deactivation_floor")
    if changes.get("page_size", directory.page_size) != directory.page_size:
        # A page size changed by hand is the administrator's again: forget the server's answer.
        changes["server_page_size_limit"] = None
    for name, value in changes.items():
        setattr(directory, name, value)
    if options.get("bind_password") is not None:
        directory.set_bind_password(options["bind_password"])


@transaction.atomic
def create_directory(name: str, options: dict[str, Any]) -> Directory:
    validation.check_name(name)
    if Directory.objects.filter(name=name).exists():
        raise InvalidSetting("name", f"a directory named {name!r} exists; use `directory set`")
    if not options.get("urls") and options.get("type", "ldap") in ("ldap", "delegated"):
        raise InvalidSetting("url", "an LDAP directory needs at least one URL, e.g. "
                             "ldap://ldap.example.org")
    directory = Directory(name=name)
    apply_options(directory, options)
    if directory.type in (DirectoryType.LDAP, DirectoryType.DELEGATED) and not directory.base_dn:
        raise InvalidSetting("base_dn", "is required, e.g. dc=example,dc=org")
    directory.fill_vendor_defaults()
    directory.position = Directory.objects.count()
    directory.save()
    create_vendor_overrides(directory)
    return directory


@transaction.atomic
def update_directory(directory: Directory, options: dict[str, Any]) -> Directory:
    old_vendor = directory.vendor
    apply_options(directory, options)
    if directory.vendor != old_vendor:
        # Attribute defaults follow the vendor unless set explicitly in this command.
        for attribute in ("username_attribute", "unique_id_attribute",
                          "modify_timestamp_attribute", "timestamp_pattern", "user_filter"):
            if options.get(attribute) is None:
                setattr(directory, attribute, "")
    directory.fill_vendor_defaults()
    directory.save()
    if directory.vendor != old_vendor:
        create_vendor_overrides(directory)
    return directory


def create_vendor_overrides(directory: Directory) -> None:
    """Point default fields at this vendor's attribute names where they differ.

    Only fields still mapped to their default attribute are touched, and only
    where no override exists, so an administrator's choices always stand.
    """
    vendor_names = directory.vendor_info.field_attributes
    defaults = {spec.key: spec.ldap_attribute for spec in DEFAULT_FIELDS}
    for field in ProfileField.objects.filter(key__in=vendor_names):
        if field.ldap_attribute != defaults.get(field.key):
            continue
        FieldAttributeOverride.objects.get_or_create(
            field=field, directory=directory,
            defaults={"ldap_attribute": vendor_names[field.key]},
        )
