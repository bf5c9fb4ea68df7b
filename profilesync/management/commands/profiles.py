"""``profilesync profiles export``: one JSON line per profile; ``profiles relink``."""

from __future__ import annotations

import json

from profilesync.directories.models import Directory
from profilesync.management.base import ProfilesyncCommand
from profilesync.profiles.models import PersonLink, Profile
from profilesync.profiles.person_links import relink_directory
from profilesync.profiles.reporting_lines import MANAGER_KEY


def export_row(profile: Profile, directory_name: str, manager: str | None = None) -> dict:
    return {
        "username": profile.username,
        "directory": directory_name,
        "active": profile.active,
        "dn": profile.dn,
        "fields": profile.values,
        "has_picture": bool(profile.picture),
        # The manager's user name when the DN names someone in profilesync, else null.
        "manager": manager,
    }


class Command(ProfilesyncCommand):
    help = "Export profiles; rebuild reporting lines."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="print one JSON object per line per profile")
        export.add_argument("--directory", help="only profiles of this directory")
        export.add_argument("--active-only", action="store_true")
        relink = actions.add_parser(
            "relink", help="resolve every Person field (manager) again from the stored profiles")
        relink.add_argument("--directory", help="only this directory")

    def handle(self, *args, action: str, directory: str | None = None,
               active_only: bool = False, **options) -> None:
        if action == "relink":
            directories = Directory.objects.order_by("name")
            if directory:
                directories = directories.filter(name=directory)
            total = sum(relink_directory(d.pk) for d in directories)
            self.stdout.write(f"Reporting lines rebuilt for {total} people.")
            return
        profiles = Profile.objects.select_related("directory").order_by("directory_id", "username")
        links = PersonLink.objects.filter(field_key=MANAGER_KEY, target__isnull=False)
        if directory:
            profiles = profiles.filter(directory__name=directory)
            links = links.filter(directory__name=directory)
        if active_only:
            profiles = profiles.filter(active=True)
        # One query for every manager's user name (a few MB at 100,000 people).
        managers = dict(links.values_list("profile_id", "target__username"))
        for profile in profiles.iterator(chunk_size=2000):
            self.stdout.write(json.dumps(
                export_row(profile, profile.directory.name, managers.get(profile.pk)),
                ensure_ascii=False))
