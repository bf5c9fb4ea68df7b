"""``profilesync profile set USERNAME KEY VALUE``: a scripted edit, applied as the person's own.

The person's entry is read first, as when they open the edit dialog, and the
value is written back under the same rules (write-back switches, conflict
check). Exit code 0 when stored (and written), 1 with the reason otherwise: a
pending edit says "kept pending; retried every N minutes", a refusal what to change.
"""

from __future__ import annotations

import sys

from profilesync.ldapclient.errors import DirectoryError
from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.profiles.models import FieldType, Profile, ProfileField
from profilesync.profiles.pictures import picture_bytes
from profilesync.sync.one_person import refresh_profile
from profilesync.writeback.service import FieldEdit, apply_edit


class Command(ProfilesyncCommand):
    help = "Change a person's profile field as their own edit would."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        setter = actions.add_parser("set", help="set one field of one person")
        setter.add_argument("username")
        setter.add_argument("key")
        setter.add_argument("value", nargs="+",
                            help="the value; several for a multi-select, '' to empty it; "
                            "for a picture, the path of an image file")
        setter.add_argument("--directory", help="the person's directory, when the user name "
                            "exists in several")

    def handle(self, *args, action: str, username: str, key: str, value: list[str],
               directory: str | None = None, **options) -> None:
        profiles = Profile.objects.filter(username=username).select_related("directory")
        if directory:
            profiles = profiles.filter(directory__name=directory)
        found = list(profiles[:2])
        if not found:
            raise usage_error(f"no profile with the user name {username!r}")
        if len(found) > 1:
            raise usage_error(f"{username!r} exists in several directories; add --directory")
        field = ProfileField.objects.filter(key=key).first()
        if field is None:
            raise usage_error(f"no field {key!r}; `profilesync field list` shows them")
        profile = found[0]
        try:
            profile = refresh_profile(profile)
        except DirectoryError as exc:
            self.stderr.write(f"note: the directory could not be read ({exc}); "
                              "using the stored values")
        new_value = self._parse(field, value)
        seen = (picture_bytes(profile.picture) if field.type == FieldType.PICTURE
                else profile.values.get(key, [] if field.type == FieldType.MULTISELECT else ""))
        outcome = apply_edit(profile, "cli", [FieldEdit(key, new_value, seen)])
        if outcome.ok:
            where = "written to the directory" if key in outcome.written else "stored"
            self.stdout.write(f"{username}: {key} {where}")
            return
        for reason in outcome.refused.values():
            self.stderr.write(f"{username}: {key} not written: {reason}")
        for reason in outcome.pending.values():
            # The same words as the dialog and the API: the edit is not lost.
            self.stderr.write(f"{username}: {key} not written yet: {reason}")
        for mine, theirs in outcome.conflicts.values():
            self.stderr.write(f"{username}: {key} changed in the directory meanwhile: it holds "
                              f"{theirs!r}, not what was read; yours {mine!r} was not written")
        sys.exit(1)

    def _parse(self, field: ProfileField, value: list[str]):
        if field.type == FieldType.MULTISELECT:
            return [v for v in value if v]
        if len(value) > 1:
            raise usage_error(f"{field.key} takes one value; quote it if it has spaces")
        if field.type == FieldType.PICTURE:
            if not value[0]:
                return None
            try:
                with open(value[0], "rb") as handle:
                    return handle.read()
            except OSError as exc:
                raise usage_error(f"value: cannot read the picture {value[0]}: "
                                  f"{exc.strerror}") from exc
        return value[0]
