"""Every write-back audit row also goes to the person's change history.

A receiver rather than a call in the write-back code: the audit row is the one
place every own edit ends (written, conflict, pending, refused), whether from
the page, the API, the CLI or a retry, so hooking it records each outcome once.
"""

from __future__ import annotations

from django.db.models.signals import post_save
from django.dispatch import receiver

from profilesync.writeback.models import WriteAudit

from .history import record_edit


@receiver(post_save, sender=WriteAudit, dispatch_uid="sync.history.write_audit")
def _record_write_audit(sender, instance: WriteAudit, created: bool, **kwargs) -> None:
    if not created:
        return
    profile = instance.profile
    outcome = instance.result + (f": {instance.message}" if instance.message else "")
    record_edit(directory_id=profile.directory_id if profile else None,
                directory_name=instance.directory_name,
                unique_id=profile.unique_id if profile else "",
                username=instance.profile_username, key=instance.attribute,
                old=instance.old_value, new=instance.new_value, actor=instance.actor,
                outcome=outcome[:500], at=instance.at)
