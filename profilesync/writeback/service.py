"""Saving a person's edit: local fields locally, write-back fields to their own entry.

Every LDAP write is conditional on the directory still holding the value the
person saw; what happens to each field is returned so the dialog can show
conflicts (both values), pending writes and refusals, and every attempt is
audited. Nothing a person typed is lost: a write that cannot happen now is
kept as a :class:`PendingWrite` and retried by the worker.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from profilesync.ldapclient.connection import open_connection
from profilesync.ldapclient.errors import DirectoryError, DirectoryUnreachable, TLSFailure
from profilesync.ldapclient.modify import WriteConflict, WriteRefused, supports_assertion, write_attribute
from profilesync.ldapclient.rootdse import read_root_dse
from profilesync.profiles.models import FieldType, Profile, ProfileField
from profilesync.profiles.pictures import store_picture

from .encoding import (
    UnwritableValue,
    audit_text,
    from_ldap_values,
    picture_for_attribute,
    to_ldap_values,
)
from .models import PendingStatus, PendingWrite, WriteAudit, WriteResultKind
from .rules import attribute_in, lock_reason, writeback_enabled_globally

log = logging.getLogger(__name__)

TRANSIENT = (DirectoryUnreachable, TLSFailure)


@dataclass
class FieldEdit:
    key: str
    value: object  # the new value; a picture as image bytes
    seen: object  # the directory value the person saw (a picture: its bytes, or None)


@dataclass
class EditOutcome:
    written: list[str] = field(default_factory=list)
    saved_locally: list[str] = field(default_factory=list)
    conflicts: dict[str, tuple[object, object]] = field(default_factory=dict)  # mine, theirs
    pending: dict[str, str] = field(default_factory=dict)
    refused: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not (self.conflicts or self.pending or self.refused)


def apply_edit(profile: Profile, actor: str, edits: list[FieldEdit], actor_user=None) -> EditOutcome:
    """Apply ``edits`` to ``profile`` as its owner's save would."""
    outcome = EditOutcome()
    fields = {f.key: f for f in ProfileField.objects.filter(key__in=[e.key for e in edits])}
    globally = writeback_enabled_globally()
    to_directory: list[tuple[FieldEdit, ProfileField, str]] = []
    for edit in edits:
        profile_field = fields.get(edit.key)
        if profile_field is None:
            outcome.refused[edit.key] = "no such field"
            continue
        attribute = attribute_in(profile_field, profile.directory)
        if not attribute:
            profile.local_values[edit.key] = edit.value
            outcome.saved_locally.append(edit.key)
            continue
        reason = lock_reason(profile_field, profile.directory, globally=globally)
        if reason:
            outcome.refused[edit.key] = reason
            continue
        to_directory.append((edit, profile_field, attribute))
    if outcome.saved_locally:
        profile.save(update_fields=["local_values", "updated_at"])
    if to_directory:
        _write_to_directory(profile, actor, actor_user, to_directory, outcome)
    return outcome


def _write_to_directory(profile: Profile, actor: str, actor_user,
                        edits: list[tuple[FieldEdit, ProfileField, str]],
                        outcome: EditOutcome) -> None:
    directory = profile.directory
    try:
        conn = open_connection(directory.connection_settings())
    except DirectoryError as exc:
        for edit, profile_field, attribute in edits:
            _keep_pending(profile, actor, actor_user, edit, profile_field, attribute, str(exc),
                          outcome, transient=isinstance(exc, TRANSIENT))
        return
    try:
        use_assertion = supports_assertion(read_root_dse(conn))
        for edit, profile_field, attribute in edits:
            _write_one(conn, profile, actor, actor_user, edit, profile_field, attribute,
                       use_assertion, outcome)
    finally:
        conn.unbind_s()


def _write_one(conn, profile: Profile, actor: str, actor_user, edit: FieldEdit,
               profile_field: ProfileField, attribute: str, use_assertion: bool,
               outcome: EditOutcome) -> None:
    is_picture = profile_field.type == FieldType.PICTURE
    try:
        new = to_ldap_values(profile_field.type, edit.value)
        if is_picture and new:
            new = [picture_for_attribute(new[0], attribute)]
        expected = to_ldap_values(profile_field.type, edit.seen)
    except UnwritableValue as exc:
        outcome.refused[edit.key] = str(exc)
        return
    if sorted(new) == sorted(expected):
        return  # nothing changed: nothing is written
    audit = WriteAudit(actor=actor, profile=profile, profile_username=profile.username,
                       directory_name=profile.directory.name, dn=profile.dn,
                       attribute=attribute, old_value=audit_text(profile_field.type, expected),
                       new_value=audit_text(profile_field.type, new))
    try:
        # Binary values have no equality rule to assert with: compare, then write.
        result = write_attribute(conn, profile.dn, attribute, new, expected,
                                 use_assertion=use_assertion and not is_picture)
    except WriteConflict as exc:
        theirs = from_ldap_values(profile_field.type, exc.current)
        outcome.conflicts[edit.key] = (edit.value, theirs)
        audit.result, audit.message = WriteResultKind.CONFLICT, str(exc)
        audit.save()
        # The directory's value is the newer truth: the profile shows it from now on,
        # whether the person then keeps it or saves theirs over it.
        _store_written_value(profile, profile_field, list(exc.current))
        return
    except DirectoryError as exc:  # WriteRefused is permanent, the others transient
        transient = not isinstance(exc, WriteRefused)
        audit.result = WriteResultKind.PENDING if transient else WriteResultKind.REFUSED
        audit.message = str(exc)
        audit.save()
        _keep_pending(profile, actor, actor_user, edit, profile_field, attribute, str(exc),
                      outcome, transient=transient, audited=True)
        return
    audit.result, audit.method = WriteResultKind.WRITTEN, result.method
    audit.save()
    with transaction.atomic():
        _store_written_value(profile, profile_field, new)
        PendingWrite.objects.filter(profile=profile, field_key=edit.key,
                                    status=PendingStatus.PENDING).update(
            status=PendingStatus.SUPERSEDED)
    outcome.written.append(edit.key)


def _store_written_value(profile: Profile, profile_field: ProfileField, new: list[bytes]) -> None:
    """The profile shows what the directory now holds; the next sync confirms it."""
    if profile_field.type == FieldType.PICTURE:
        profile.picture = store_picture(new[0]) if new else ""
    else:
        value = from_ldap_values(profile_field.type, new)
        if value in ("", []):
            profile.values.pop(profile_field.key, None)
        else:
            profile.values[profile_field.key] = value
        if profile_field.key == "display_name":
            profile.display_name = (value or profile.username)[:255]
    profile.digest = ""  # the next sync compares values instead of trusting the digest
    profile.save(update_fields=["values", "picture", "display_name", "digest", "updated_at"])


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _keep_pending(profile: Profile, actor: str, actor_user, edit: FieldEdit,
                  profile_field: ProfileField, attribute: str, reason: str,
                  outcome: EditOutcome, *, transient: bool, audited: bool = False) -> None:
    """Keep the person's value: pending (retried) when transient, refused (shown) otherwise."""
    is_picture = profile_field.type == FieldType.PICTURE
    stored_value = store_picture(edit.value) if is_picture and edit.value else edit.value
    stored_seen = (profile.picture if is_picture else edit.seen)
    PendingWrite.objects.filter(profile=profile, field_key=edit.key,
                                status__in=[PendingStatus.PENDING, PendingStatus.REFUSED]).update(
        status=PendingStatus.SUPERSEDED)
    PendingWrite.objects.create(
        profile=profile, field_key=edit.key, attribute=attribute, value=stored_value,
        expected=stored_seen, actor=actor_user, reason=reason, attempts=1,
        status=PendingStatus.PENDING if transient else PendingStatus.REFUSED,
        next_attempt_at=timezone.now() + backoff(1) if transient else None)
    if not audited:
        WriteAudit.objects.create(
            actor=actor, profile=profile, profile_username=profile.username,
            directory_name=profile.directory.name, dn=profile.dn, attribute=attribute,
            result=WriteResultKind.PENDING if transient else WriteResultKind.REFUSED,
            message=reason)
    if transient:
        outcome.pending[edit.key] = reason
    else:
        outcome.refused[edit.key] = reason
