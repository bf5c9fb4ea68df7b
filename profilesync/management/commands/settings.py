"""``profilesync settings get|set KEY [VALUE]``: the Data Sources (LDAP) settings."""

from __future__ import annotations

from profilesync.ldapclient.timestamps import LAST_SYNC_EXAMPLE, LAST_SYNC_FORMAT
from profilesync.management.base import ProfilesyncCommand
from profilesync.sync.datasources import KEYS, get_setting, set_setting, time_zone_name


class Command(ProfilesyncCommand):
    help = (f"Read or change the Data Sources settings: {', '.join(KEYS)}. "
            f"Dates are {LAST_SYNC_FORMAT} (e.g. {LAST_SYNC_EXAMPLE}) in the server's time zone; "
            "an empty last_ldap_sync_date makes the next run a full sync.")

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        getter = actions.add_parser("get", help="print a setting")
        getter.add_argument("key", choices=KEYS)
        setter = actions.add_parser("set", help="change a setting")
        setter.add_argument("key", choices=KEYS)
        setter.add_argument("value", nargs="?", default="",
                            help="on/off, or a date; omit to clear the date")

    def handle(self, *args, action: str, key: str, value: str = "", **options) -> None:
        if action == "get":
            self.stdout.write(get_setting(key))
            return
        shown = set_setting(key, value)
        if key == "last_ldap_sync_date":
            if shown:
                self.stdout.write(f"last_ldap_sync_date = {shown} ({time_zone_name()}); the next "
                                  "incremental run reads every user changed since then")
            else:
                self.stdout.write("last_ldap_sync_date cleared; the next run is a full sync")
        else:
            self.stdout.write(f"{key} = {shown}")
