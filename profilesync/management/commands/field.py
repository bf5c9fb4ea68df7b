"""``profilesync field add|set|list``."""

from __future__ import annotations

import argparse
import json

from profilesync.directories.models import Directory
from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.profiles.models import FieldType, ProfileField
from profilesync.profiles.services import create_field, update_field

_SETTINGS = ("label", "type", "ldap_attribute", "options", "help_text", "category",
             "required", "shown_in_profile", "searchable", "write_back")


def _add_settings(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("key")
    parser.add_argument("--label")
    parser.add_argument("--type", choices=FieldType.values)
    parser.add_argument("--ldap-attribute")
    parser.add_argument("--options", help="comma-separated choices of a select field")
    parser.add_argument("--help-text")
    parser.add_argument("--category")
    for flag in ("required", "shown-in-profile", "searchable"):
        parser.add_argument(f"--{flag}", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--write-back", action=argparse.BooleanOptionalAction, default=None,
                        help="write what users enter into the LDAP attribute (not for dates)")


class Command(ProfilesyncCommand):
    help = "Manage profile fields."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        _add_settings(actions.add_parser("add", help="add a field"))
        setter = actions.add_parser("set", help="change a field")
        _add_settings(setter)
        setter.add_argument("--directory", help="with --ldap-attribute: set the attribute "
                            "this directory uses for the field")
        listing = actions.add_parser("list", help="list fields")
        listing.add_argument("--json", action="store_true")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"handle_{action}")(**options)

    def handle_add(self, key: str, **options) -> None:
        field = create_field(key, {k: options.get(k) for k in _SETTINGS})
        self.stdout.write(f"field {field.key} added")

    def handle_set(self, key: str, directory: str | None = None, **options) -> None:
        try:
            field = ProfileField.objects.get(key=key)
        except ProfileField.DoesNotExist:
            raise usage_error(f"no field {key!r}; `profilesync field list` shows them") from None
        target = None
        if directory is not None:
            if options.get("ldap_attribute") is None:
                raise usage_error("--directory: give --ldap-attribute with it")
            target = Directory.objects.filter(name=directory).first()
            if target is None:
                raise usage_error(f"--directory: no directory named {directory!r}")
        update_field(field, {k: options.get(k) for k in _SETTINGS}, directory=target)
        self.stdout.write(f"field {field.key} updated")

    def handle_list(self, json: bool = False, **options) -> None:
        rows = []
        for field in ProfileField.objects.prefetch_related("overrides__directory"):
            rows.append({
                "key": field.key, "label": field.label, "type": field.type,
                "ldap_attribute": field.ldap_attribute,
                "directory_attributes": {o.directory.name: o.ldap_attribute
                                         for o in field.overrides.all()},
                "write_back": field.write_back, "options": field.options,
                "required": field.required, "shown_in_profile": field.shown_in_profile,
                "searchable": field.searchable, "category": field.category,
            })
        if json:
            self.stdout.write(_dumps(rows))
            return
        for row in rows:
            overrides = ", ".join(f"{d}: {a}" for d, a in row["directory_attributes"].items())
            write = "write-back" if row["write_back"] else ""
            self.stdout.write("\t".join(filter(None, [
                row["key"], row["type"], row["ldap_attribute"] or "-",
                f"({overrides})" if overrides else "", write])))


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
