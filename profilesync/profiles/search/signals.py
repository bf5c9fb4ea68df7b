"""Keeping the search columns right when profiles or fields change outside the sync writer.

Connected in ``ProfilesConfig.ready``. Writers that bypass the ORM's save (the
sync's plain SQL) compute the columns themselves; a bulk ``update()`` of
``active`` needs nothing, since the index reads that column directly.
"""

from __future__ import annotations

import logging
import time

from django.db import connections
from django.db.models.signals import post_delete, post_migrate, post_save, pre_save

from . import index
from .choices import forget_choices
from .columns import refresh_search_columns
from .text import SearchFields

log = logging.getLogger(__name__)

# Saving a profile with update_fields among these changes its search columns.
SEARCH_INPUTS = frozenset({"display_name", "username", "values", "local_values"})


def connect(app_config) -> None:
    from profilesync.profiles.models import Profile, ProfileField

    post_save.connect(profile_saved, sender=Profile, dispatch_uid="search-profile-saved")
    pre_save.connect(field_saving, sender=ProfileField, dispatch_uid="search-field-saving")
    post_save.connect(field_saved, sender=ProfileField, dispatch_uid="search-field-saved")
    post_delete.connect(field_deleted, sender=ProfileField, dispatch_uid="search-field-deleted")
    post_migrate.connect(migrated, sender=app_config, dispatch_uid="search-migrated")


def profile_saved(sender, instance, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and not SEARCH_INPUTS & set(update_fields)):
        return
    refresh_search_columns([instance.pk])


def _indexing(field) -> SearchFields:
    """What ``field`` contributes to every search text (nothing: empty)."""
    return SearchFields.of([field])


def field_saving(sender, instance, raw: bool = False, **kwargs) -> None:
    before = None if raw or instance.pk is None else sender.objects.filter(pk=instance.pk).first()
    instance._indexing_before = _indexing(before) if before is not None else SearchFields()


# The rebuild runs in the transaction that changes the field: the change and the search
# texts it implies are committed together, or neither is.

def field_saved(sender, instance, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    forget_choices(instance.key)  # its options or type may have changed
    if _indexing(instance) != getattr(instance, "_indexing_before", SearchFields()):
        rebuild_search_text()


def field_deleted(sender, instance, **kwargs) -> None:
    if _indexing(instance) != SearchFields():
        rebuild_search_text()


def rebuild_search_text() -> int:
    """Recompute every profile's search columns (which fields are searched changed)."""
    started = time.monotonic()
    changed = refresh_search_columns()
    log.info("search text rebuilt changed=%d seconds=%.2f", changed, time.monotonic() - started)
    return changed


def migrated(sender, using: str = "default", **kwargs) -> None:
    index.ensure_installed(connections[using])
