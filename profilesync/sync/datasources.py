"""The Data Sources settings (LDAP tab): read and change them by name.

One place for the CLI, the web page and the API, so the same value is
refused with the same message everywhere.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.errors import InvalidSetting
from profilesync.ldapclient.timestamps import format_last_sync_date, parse_last_sync_date

from . import usn
from .models import DataSourceSettings, DirectorySyncState

KEYS = ("incremental_sync", "last_ldap_sync_date", "writeback_enabled")
SWITCHES = ("incremental_sync", "writeback_enabled")
_TRUE = {"on", "true", "yes", "1"}
_FALSE = {"off", "false", "no", "0"}


def check_key(key: str) -> str:
    if key not in KEYS:
        raise InvalidSetting("key", f"{key!r} is not a setting; use one of {', '.join(KEYS)}")
    return key


def get_setting(key: str) -> str:
    """The value as a person reads and types it."""
    settings = DataSourceSettings.load()
    if check_key(key) in SWITCHES:
        return "on" if getattr(settings, key) else "off"
    return format_last_sync_date(settings.last_ldap_sync_date, timezone.get_current_timezone())


def parse_switch(value: str, setting: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidSetting(setting, f"{value!r} is neither on nor off; use on or off")


@transaction.atomic
def set_setting(key: str, value: str) -> str:
    """Validate and store ``value``; return it as :func:`get_setting` shows it."""
    settings = DataSourceSettings.load()
    if check_key(key) in SWITCHES:
        setattr(settings, key, parse_switch(value, key))
        settings.save(update_fields=[key, "updated_at"])
    else:
        set_last_sync_date(parse_last_sync_date(value, timezone.get_current_timezone()))
    return get_setting(key)


def set_last_sync_date(moment: datetime | None) -> None:
    """Set the shown date and the watermarks: None means "the next run is full".

    The seed's contract, exactly: an empty date clears every directory's
    watermark, so the next run reads everyone and deactivates whoever is gone.
    A date moves only the watermarks of directories that synced before: a
    directory that never synced keeps none, so its next run is still its first
    import, in full, and never skips the people modified before the date.

    An Active Directory's USN watermark is dropped too: a USN cannot be derived
    from a date, so the next run reads by ``whenChanged`` from the chosen date
    and stores a fresh USN (see :mod:`.usn`).
    """
    DataSourceSettings.load()
    DataSourceSettings.objects.filter(pk=1).update(last_ldap_sync_date=moment)
    for directory in Directory.objects.all():
        state = DirectorySyncState.for_directory(directory)
        if moment is not None and state.watermark is None and state.last_success_at is None:
            continue  # never synced: "first import: full" stays
        state.watermark = moment
        usn.forget(state)
        state.save(update_fields=["watermark", "usn_watermark", "usn_server_dn",
                                  "usn_invocation_id"])


def time_zone_name() -> str:
    """The zone dates are shown and entered in, for the page to name."""
    return str(timezone.get_current_timezone())
