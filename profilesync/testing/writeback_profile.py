"""A person's profile ready for write-back tests: synced, with write-back switched on.

The write-back, retry and metrics tests all start from "Ann, imported, and these
fields written back"; one helper keeps that starting point the same in each.
"""

from __future__ import annotations

from collections.abc import Iterable


def synced_with_write_back(directory, username: str, field_keys: Iterable[str]):
    """Sync ``directory``, switch write-back on globally and for ``field_keys``, and return
    ``username``'s profile."""
    from profilesync.profiles.models import Profile, ProfileField
    from profilesync.profiles.services import update_field
    from profilesync.sync.datasources import set_setting
    from profilesync.sync.runner import run_sync

    run_sync([directory])
    set_setting("writeback_enabled", "on")
    for key in field_keys:
        update_field(ProfileField.objects.get(key=key), {"write_back": True})
    return Profile.objects.get(directory=directory, username=username)
