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
from profilesync.writeback.service import (
    EditOutcome,
    FieldEdit,
    apply_edit,
    withdraw_open_writes,
)

from .edit_form import EditProfileForm
from .models import Profile
from .pictures import picture_bytes, store_picture

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


def save_own_profile(profile: Profile, form: EditProfileForm, user) -> EditOutcome:
    """Store a valid edit form: the person's own fields here, write-back fields in the
    directory (each only if it still holds what the dialog showed)."""
    with transaction.atomic():
        current = Profile.objects.select_for_update().get(pk=profile.pk)
        current.local_values = form.local_values(current.local_values)
        if form.new_picture is not None and not form.picture_writes_back:
            current.local_picture = store_picture(form.new_picture)
        elif form.remove_picture and not form.picture_writes_back:
            current.local_picture = ""
        current.save(update_fields=["local_values", "local_picture", "updated_at"])
        for key in form.withdrawn():
            withdraw_open_writes(current, key, reason="withdrawn by the person")
    edits = form.directory_edits()
    if not edits:
        return EditOutcome()
    return apply_edit(current, user.get_username(), [
        FieldEdit(key, new, _seen_for_write(current, form, key, seen))
        for key, new, seen in edits], actor_user=user)


def _seen_for_write(profile: Profile, form: EditProfileForm, key: str, seen: object) -> object:
    """What the directory held when the dialog opened, as the write-back compares it.

    For a picture the dialog carries the stored picture's name; the bytes are the
    directory's photo as the last sync or refresh stored it.
    """
    if form.picture_field is not None and key == form.picture_field.key:
        return picture_bytes(seen) if seen else None
    return seen
