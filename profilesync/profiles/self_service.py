"""A person editing their own profile: fresh values when the dialog opens, saving what they entered.

Saving writes only ``local_values`` and ``local_picture``, the columns the sync
never writes, with ``update_fields``, so a sync storing the same person's
directory values at the same moment is neither overwritten nor overwrites.
Write-back (saving fed fields to the directory) joins :func:`save_own_profile`.
"""

from __future__ import annotations

import logging

from django.db import transaction

from profilesync.ldapclient.errors import DirectoryError
from profilesync.sync.one_person import refresh_profile

from .edit_form import EditProfileForm
from .models import Profile
from .pictures import store_picture

log = logging.getLogger(__name__)

# A person waits for the dialog; a directory slower than this is treated as unreachable.
REFRESH_TIMEOUT_SECONDS = 8.0

UNREACHABLE_NOTICE = (
    "The directory could not be reached. Values from the directory are as of the last sync "
    "and may be out of date; your own fields can still be saved.")


def refresh_for_editing(profile: Profile) -> tuple[Profile, str]:
    """The profile with its directory values read again, and a notice ("" when none is due).

    The directory failing does not stop the dialog: the stored values are shown and the
    notice says so.
    """
    directory = profile.directory
    if directory.sync_refusal() is not None:
        return profile, ""  # nothing to read from (an internal directory)
    try:
        return refresh_profile(profile, timeout=REFRESH_TIMEOUT_SECONDS), ""
    except DirectoryError as exc:
        log.warning("profile refresh failed directory=%s profile=%s error=%s",
                    directory.name, profile.pk, exc)
        return profile, UNREACHABLE_NOTICE


@transaction.atomic
def save_own_profile(profile: Profile, form: EditProfileForm) -> Profile:
    """Store a valid edit form's values and picture on ``profile``."""
    current = Profile.objects.select_for_update().get(pk=profile.pk)
    current.local_values = form.local_values(current.local_values)
    if form.new_picture is not None:
        current.local_picture = store_picture(form.new_picture)
    elif form.remove_picture:
        current.local_picture = ""
    current.save(update_fields=["local_values", "local_picture", "updated_at"])
    return current
