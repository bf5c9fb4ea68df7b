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


def lock_reason(field: ProfileField, directory: Directory, *, globally: bool | None = None) -> str:
    """Why the person cannot edit ``field`` ("" when they can)."""
    if not attribute_in(field, directory):
        return ""
    if globally is None:
        globally = writeback_enabled_globally()
    if field.type in WRITE_BACK_REFUSED_TYPES:
        return "comes from the directory; date fields are never written back"
    if not globally:
        return "comes from the directory; write-back to the directory is not enabled"
    if not field.write_back:
        return "comes from the directory; write-back is not enabled for this field"
    return ""
