"""Which fields are fed by the directory, and which of those a person may write back.

Two steps, as in the seed product: the global switch (Data Sources) and the
field's own option. A date field never writes back.
"""

from __future__ import annotations

from profilesync.directories.models import Directory
from profilesync.profiles.models import WRITE_BACK_REFUSED_TYPES, FieldAttributeOverride, ProfileField


def attribute_in(field: ProfileField, directory: Directory) -> str:
    """The LDAP attribute feeding ``field`` in ``directory`` ("" when none)."""
    override = FieldAttributeOverride.objects.filter(field=field, directory=directory).first()
    return override.ldap_attribute if override is not None else field.ldap_attribute


def writeback_enabled_globally() -> bool:
    from profilesync.sync.models import DataSourceSettings

    return DataSourceSettings.load().writeback_enabled


NOT_ENABLED_GLOBALLY = "Comes from the directory; write-back to the directory is not enabled."
NOT_ENABLED_FOR_FIELD = "Comes from the directory; write-back is not enabled for this field."
NEVER_FOR_DATES = "Comes from the directory; date fields are never written back."


def lock_reason(field: ProfileField, directory: Directory, *, globally: bool | None = None) -> str:
    """Why the person cannot edit ``field`` ("" when they can)."""
    if not attribute_in(field, directory):
        return ""
    return fed_field_lock_reason(field, writeback_enabled_globally() if globally is None
                                 else globally)


def fed_field_lock_reason(field: ProfileField, globally: bool) -> str:
    """Why a field the directory feeds cannot be edited ("" when write-back allows it)."""
    if field.type in WRITE_BACK_REFUSED_TYPES:
        return NEVER_FOR_DATES
    if not globally:
        return NOT_ENABLED_GLOBALLY
    if not field.write_back:
        return NOT_ENABLED_FOR_FIELD
    return ""
