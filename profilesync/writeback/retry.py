"""Retrying pending writes from the worker, with backoff for transient failures.

A retry writes only if the directory still holds what the person saw when
they saved. If it changed meanwhile, the person cannot be asked any more, so
the directory's value stands, and the person's value is kept on the pending
row as refused, with both values in the reason, for them and administrators.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from profilesync.ldapclient.connection import open_connection
from profilesync.ldapclient.errors import DirectoryError
from profilesync.ldapclient.modify import WriteConflict, WriteRefused, supports_assertion, write_attribute
from profilesync.ldapclient.rootdse import read_root_dse
from profilesync.profiles.models import FieldType, ProfileField
from profilesync.profiles.pictures import picture_bytes

from .encoding import audit_text, from_ldap_values, picture_for_attribute, to_ldap_values
from .models import PendingStatus, PendingWrite, WriteAudit, WriteResultKind
from .service import TRANSIENT, _store_written_value, backoff


@dataclass
class RetryCounts:
    written: int = 0
    still_pending: int = 0
    refused: int = 0


def retry_due_writes(now=None) -> RetryCounts:
    now = now or timezone.now()
    counts = RetryCounts()
    due = (PendingWrite.objects.filter(status=PendingStatus.PENDING, next_attempt_at__lte=now)
           .select_related("profile__directory", "actor").order_by("profile_id", "id"))
    for pending in due:
        _retry_one(pending, counts)
    return counts


def _retry_one(pending: PendingWrite, counts: RetryCounts) -> None:
    profile = pending.profile
    profile_field = ProfileField.objects.filter(key=pending.field_key).first()
    field_type = profile_field.type if profile_field else FieldType.TEXT
    is_picture = field_type == FieldType.PICTURE
    value = picture_bytes(pending.value) if is_picture else pending.value
    seen = picture_bytes(pending.expected) if is_picture else pending.expected
    new = to_ldap_values(field_type, value)
    if is_picture and new:
        new = [picture_for_attribute(new[0], pending.attribute)]
    expected = to_ldap_values(field_type, seen)
    audit = WriteAudit(actor=f"retry of {pending.actor.username if pending.actor else 'system'}",
                       profile=profile, profile_username=profile.username,
                       directory_name=profile.directory.name, dn=profile.dn,
                       attribute=pending.attribute, old_value=audit_text(field_type, expected),
                       new_value=audit_text(field_type, new))
    pending.attempts += 1
    try:
        conn = open_connection(profile.directory.connection_settings())
        try:
            result = write_attribute(conn, profile.dn, pending.attribute, new, expected,
                                     use_assertion=supports_assertion(read_root_dse(conn))
                                     and not is_picture)
        finally:
            conn.unbind_s()
    except WriteConflict as exc:
        theirs = from_ldap_values(field_type, exc.current)
        _finish(pending, PendingStatus.REFUSED,
                f"changed in the directory while waiting: the directory now holds {theirs!r}; "
                f"your value {pending.value!r} was not written")
        audit.result, audit.message = WriteResultKind.CONFLICT, str(exc)
        audit.save()
        counts.refused += 1
        return
    except (WriteRefused, DirectoryError) as exc:
        transient = isinstance(exc, TRANSIENT)
        audit.result = WriteResultKind.PENDING if transient else WriteResultKind.REFUSED
        audit.message = str(exc)
        audit.save()
        if transient:
            pending.reason = str(exc)
            pending.next_attempt_at = timezone.now() + backoff(pending.attempts)
            pending.save(update_fields=["attempts", "reason", "next_attempt_at", "updated_at"])
            counts.still_pending += 1
        else:
            _finish(pending, PendingStatus.REFUSED, str(exc))
            counts.refused += 1
        return
    audit.result, audit.method = WriteResultKind.WRITTEN, result.method
    audit.save()
    if profile_field is not None:
        _store_written_value(profile, profile_field, new)
    _finish(pending, PendingStatus.DONE, "")
    counts.written += 1


def _finish(pending: PendingWrite, status: str, reason: str) -> None:
    pending.status = status
    pending.reason = reason
    pending.next_attempt_at = None
    pending.save(update_fields=["status", "reason", "attempts", "next_attempt_at", "updated_at"])
