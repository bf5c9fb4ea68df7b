"""The Data Sources (LDAP) form: the same checks as the CLI, shown at the field."""

from __future__ import annotations

from django import forms

from profilesync.directories.validation import check_timestamp_pattern
from profilesync.errors import InvalidSetting
from profilesync.ldapclient.timestamps import (
    LAST_SYNC_EXAMPLE,
    LAST_SYNC_FORMAT,
    parse_last_sync_date,
)
from profilesync.live.models import LiveListener
from profilesync.live.status import live_setting

LIVE_CHOICES = [("default", "Default (on where the server pushes or notifies)"),
                ("on", "On"), ("off", "Off")]


class DataSourcesForm(forms.Form):
    incremental_sync = forms.BooleanField(required=False, label="Incremental synchronization")
    writeback_enabled = forms.BooleanField(
        required=False, label="Write fields back to the user directory (LDAP)",
        help_text="Step one of two: then enable write-back for each field in the profile "
                  "editor. Off: no field writes back, whatever its own setting.")
    last_ldap_sync_date = forms.CharField(
        required=False, label="Last LDAP sync date",
        help_text=f"{LAST_SYNC_FORMAT}, e.g. {LAST_SYNC_EXAMPLE}. Empty: the next run is a full "
                  "sync of every directory: it reads everyone and deactivates whoever is gone. "
                  "A date: the next run of each directory that synced before reads every user "
                  "changed since then; a directory that never synced still gets its first "
                  "import in full.")

    def __init__(self, *args, zone, directories, **kwargs):
        super().__init__(*args, **kwargs)
        self.zone = zone
        self.directories = list(directories)
        for directory in self.directories:
            self.fields[f"pattern_{directory.pk}"] = forms.CharField(
                label=f"Timestamp pattern of {directory.name}", initial=directory.timestamp_pattern,
                help_text="Java SimpleDateFormat letters y M d H m s S Z X; written in UTC. "
                          "Quoted text may not hold * ( ) \\ or an offset such as '-0500'; "
                          "a changed pattern is checked against the directory at once.")
            # Not required: a form posted without it (a script, an older page) keeps the
            # directory's live setting as it is.
            self.fields[f"live_{directory.pk}"] = forms.ChoiceField(
                label=f"Live updates of {directory.name}", choices=LIVE_CHOICES, required=False,
                initial=live_setting(LiveListener.for_directory(directory)),
                help_text="On: a worker listens for changes and applies them within seconds "
                          "(syncrepl push on OpenLDAP, a poll of uSNChanged on Active Directory). "
                          "Default: on where the server pushes changes or notifies.")

    def clean(self):
        cleaned = super().clean()
        try:
            cleaned["last_sync_moment"] = parse_last_sync_date(
                cleaned.get("last_ldap_sync_date", ""), self.zone)
        except InvalidSetting as exc:
            self.add_error("last_ldap_sync_date", exc.message)
        for directory in self.directories:
            name = f"pattern_{directory.pk}"
            try:
                check_timestamp_pattern(cleaned.get(name, ""), name)
            except InvalidSetting as exc:
                self.add_error(name, exc.message)
        return cleaned
