"""Saving a person's edit: local fields locally, write-back fields to their own entry.

Every LDAP write changes only what the person changed, and only where the
directory still holds what they saw (:mod:`.directory_writer`). Each field's
outcome is returned so the dialog, the API and the CLI show the same thing:
written, conflict (both values), pending (kept and retried) or refused (kept,
with the directory's message and what to change). Every attempt is audited.
Nothing a person typed is lost: a write that cannot happen now is kept as a
:class:`PendingWrite`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from profilesync.ldapclient.errors import DirectoryError, WriteConflict
from profilesync.profiles.models import FieldType, Profile, ProfileField
from profilesync.profiles.pictures import store_picture

from .directory_writer import DirectoryWriter, outcome_of
from .encoding import (
    UnwritableValue,
    audit_text,
    from_ldap_values,
    picture_for_attribute,
    to_ldap_values,
)
from .models import OPEN_STATUSES, PendingStatus, PendingWrite, WriteAudit, WriteResultKind
from .rules import attribute_in, lock_reason, writeback_enabled_globally

log = logging.getLogger(__name__)


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


@dataclass
class _Write:
    """One field's write: the person's edit and both values as the directory holds them."""

    edit: FieldEdit
    field: ProfileField
    attribute: str
    new: list[bytes]
    expected: list[bytes]


def apply_edit(profile: Profile, actor: str, edits: list[FieldEdit], actor_user=None) -> EditOutcome:
    """Apply ``edits`` to ``profile`` as its owner's save would."""
    outcome = EditOutcome()
    fields = {f.key: f for f in ProfileField.objects.filter(key__in=[e.key for e in edits])}
    globally = writeback_enabled_globally()
    writes: list[_Write] = []
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
        try:
            new, expected = ldap_values_of(profile_field.type, attribute, edit.value, edit.seen)
        except UnwritableValue as exc:
            outcome.refused[edit.key] = str(exc)
            continue
        if sorted(new) == sorted(expected):
            # Saving what the directory holds withdraws an edit still waiting to be written.
            withdraw_open_writes(profile, edit.key, reason="you saved the directory's value")
            continue
        writes.append(_Write(edit, profile_field, attribute, new, expected))
    if outcome.saved_locally:
        profile.save(update_fields=["local_values", "updated_at"])
    if writes:
        _write_to_directory(profile, actor, actor_user, writes, outcome)
    return outcome


def ldap_values_of(field_type: str, attribute: str, value: object,
                   seen: object) -> tuple[list[bytes], list[bytes]]:
    """(new, expected): the person's value and the value they saw, as attribute values."""
    new = to_ldap_values(field_type, value)
    if field_type == FieldType.PICTURE and new:
        new = [picture_for_attribute(new[0], attribute)]
    return new, to_ldap_values(field_type, seen)


def _write_to_directory(profile: Profile, actor: str, actor_user, writes: list[_Write],
                        outcome: EditOutcome) -> None:
    try:
        writer = DirectoryWriter(profile.directory)
    except DirectoryError as exc:
        for write in writes:
            _record(profile, actor, actor_user, write, exc, outcome, connecting=True)
        return
    with writer:
        for write in writes:
            try:
                result = writer.write(profile.dn, write.attribute, write.new, write.expected)
            except DirectoryError as exc:
                _record(profile, actor, actor_user, write, exc, outcome)
                continue
            audit(profile, actor, write.attribute, write.field.type, write.expected, write.new,
                  WriteResultKind.WRITTEN, method=result.method)
            with transaction.atomic():
                store_directory_value(profile, write.field, write.new)
                _close_open_writes(profile, write.edit.key, PendingStatus.SUPERSEDED)
            outcome.written.append(write.edit.key)


def _record(profile: Profile, actor: str, actor_user, write: _Write, exc: DirectoryError,
            outcome: EditOutcome, *, connecting: bool = False) -> None:
    """A write that did not happen: audit it, keep the person's value, say why."""
    kind = outcome_of(exc, connecting=connecting)
    audit(profile, actor, write.attribute, write.field.type, write.expected, write.new, kind,
          message=str(exc))
    if kind == WriteResultKind.CONFLICT:
        assert isinstance(exc, WriteConflict)
        theirs = from_ldap_values(write.field.type, exc.current)
        # The directory's value is the newer truth: the profile shows it from now on,
        # whether the person then keeps it or saves theirs over it.
        store_directory_value(profile, write.field, list(exc.current))
        if write.field.type == FieldType.PICTURE:
            theirs = profile.picture or None  # the stored picture's name, not its bytes
        outcome.conflicts[write.edit.key] = (write.edit.value, theirs)
        return
    log.warning("write-back not done directory=%s profile=%s attribute=%s outcome=%s error=%s",
                profile.directory.name, profile.pk, write.attribute, kind, exc)
    keep_pending(profile, actor_user, write.edit, write.field, write.attribute, str(exc),
                 transient=kind == WriteResultKind.PENDING)
    if kind == WriteResultKind.PENDING:
        from .pending import retry_interval_minutes

        outcome.pending[write.edit.key] = (
            f"{exc}; kept pending; retried every {retry_interval_minutes()} minutes")
    else:
        outcome.refused[write.edit.key] = str(exc)


def audit(profile: Profile, actor: str, attribute: str, field_type: str, old: list[bytes],
          new: list[bytes], result: str, *, method: str = "", message: str = "",
          dn: str | None = None) -> WriteAudit:
    """One audit row: who, whose profile, which attribute, old and new value, outcome."""
    return WriteAudit.objects.create(
        actor=actor, profile=profile, profile_username=profile.username,
        directory_name=profile.directory.name, dn=dn or profile.dn, attribute=attribute,
        old_value=audit_text(field_type, old), new_value=audit_text(field_type, new),
        result=result, method=method, message=message)


def store_directory_value(profile: Profile, profile_field: ProfileField,
                          new: list[bytes]) -> None:
    """The profile shows what the directory now holds: that field only, on the row as it is
    now (a stale copy of the profile must not put back its other values)."""
    with transaction.atomic():
        current = Profile.objects.select_for_update().get(pk=profile.pk)
        if profile_field.type == FieldType.PICTURE:
            current.picture = store_picture(new[0]) if new else ""
            profile.picture = current.picture
        else:
            value = from_ldap_values(profile_field.type, new)
            for target in (current, profile):
                if value in ("", []):
                    target.values.pop(profile_field.key, None)
                else:
                    target.values[profile_field.key] = value
            if profile_field.key == "display_name":
                current.display_name = profile.display_name = (value or profile.username)[:255]
        current.digest = ""  # the next sync compares values instead of trusting the digest
        current.save(update_fields=["values", "picture", "display_name", "digest", "updated_at"])


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes, at most an hour."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


def _close_open_writes(profile: Profile, key: str, status: str, reason: str = "") -> int:
    return PendingWrite.objects.filter(profile=profile, field_key=key,
                                       status__in=OPEN_STATUSES).update(
        status=status, next_attempt_at=None, claim_token="",
        **({"reason": reason} if reason else {}))


def withdraw_open_writes(profile: Profile, key: str, *, reason: str = "withdrawn") -> int:
    """The person takes back an edit not yet written (or dismisses a refused one)."""
    return _close_open_writes(profile, key, PendingStatus.WITHDRAWN, reason)


def keep_pending(profile: Profile, actor_user, edit: FieldEdit, profile_field: ProfileField,
                 attribute: str, reason: str, *, transient: bool) -> PendingWrite:
    """Keep the person's value: pending (retried) when transient, refused (shown) otherwise.

    A newer edit of the same field replaces the older one, never joins it.
    """
    is_picture = profile_field.type == FieldType.PICTURE
    stored_value = store_picture(edit.value) if is_picture and edit.value else edit.value
    stored_seen = (profile.picture if is_picture else edit.seen)
    with transaction.atomic():
        _close_open_writes(profile, edit.key, PendingStatus.SUPERSEDED)
        return PendingWrite.objects.create(
            profile=profile, field_key=edit.key, field_type=profile_field.type,
            attribute=attribute, value=stored_value, expected=stored_seen, actor=actor_user,
            reason=reason, attempts=1,
            status=PendingStatus.PENDING if transient else PendingStatus.REFUSED,
            next_attempt_at=timezone.now() + backoff(1) if transient else None)
