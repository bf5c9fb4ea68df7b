"""``profilesync profiles export``: one JSON line per profile."""

from __future__ import annotations

import json

from profilesync.management.base import ProfilesyncCommand
from profilesync.profiles.models import Profile


def export_row(profile: Profile, directory_name: str) -> dict:
    return {
        "username": profile.username,
        "directory": directory_name,
        "active": profile.active,
        "dn": profile.dn,
        "fields": profile.values,
        "has_picture": bool(profile.picture),
    }


class Command(ProfilesyncCommand):
    help = "Export profiles."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="print one JSON object per line per profile")
        export.add_argument("--directory", help="only profiles of this directory")
        export.add_argument("--active-only", action="store_true")

    def handle(self, *args, action: str, directory: str | None = None,
               active_only: bool = False, **options) -> None:
        profiles = Profile.objects.select_related("directory").order_by("directory_id", "username")
        if directory:
            profiles = profiles.filter(directory__name=directory)
        if active_only:
            profiles = profiles.filter(active=True)
        for profile in profiles.iterator(chunk_size=2000):
            self.stdout.write(json.dumps(export_row(profile, profile.directory.name),
                                         ensure_ascii=False))
