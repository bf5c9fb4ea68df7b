"""Retrying pending writes: each row on its own, claimed, and checked against the present.

A queue that cannot be poisoned:

- each due row is **claimed** with one conditional UPDATE (status still pending,
  still due, then a fresh token and a lease in ``next_attempt_at``), the same
  statement on SQLite and PostgreSQL, so two workers or two overlapping runs
  never act on one row; a worker that dies leaves the row due again when the
  lease ends;
- each row is retried **on its own**: whatever goes wrong with one (a directory
  answer, a bug) is recorded on that row with backoff, and the next row goes on;
- before writing, the retry **re-checks the present**: the global switch, the
  field's write-back flag, type and attribute, that the profile is active, and
  that the entry at the DN still carries the profile's unique ID (following the
  entry when it moved). What no longer applies is ended with the reason, shown
  to the person and to administrators;
- if the directory changed while the edit waited, the person cannot be asked
  any more: the directory's value stands and the row is refused with both values;
- after a successful write only that one field is saved in the database.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from profilesync.ldapclient.errors import DirectoryError, WriteConflict
from profilesync.ldapclient.modify import find_entry_by_unique_id, read_attributes
from profilesync.profiles.models import FieldType, Profile, ProfileField
from profilesync.profiles.pictures import picture_bytes

from .directory_writer import DirectoryWriter, outcome_of
from .encoding import UnwritableValue, from_ldap_values
from .models import PendingStatus, PendingWrite, WriteResultKind
from .rules import attribute_in, fed_field_lock_reason, writeback_enabled_globally
from .service import audit, backoff, ldap_values_of, store_directory_value

log = logging.getLogger(__name__)

# A claimed row is left alone by others this long; a retry of one row takes seconds.
CLAIM_LEASE = timedelta(minutes=10)


@dataclass
class RowOutcome:
    pending: PendingWrite
    outcome: str  # written, conflict, pending, refused, ended, skipped (claimed elsewhere)
    message: str = ""


@dataclass
class RetryCounts:
    written: int = 0
    still_pending: int = 0
    refused: int = 0
    ended: int = 0
    rows: list[RowOutcome] = field(default_factory=list)


class NoLongerApplies(Exception):
    """The pending write must not be written any more; the message says why."""


def retry_due_writes(now=None) -> RetryCounts:
    """Retry every pending write whose backoff has passed, each on its own."""
    now = now or timezone.now()
    counts = RetryCounts()
    due = list(PendingWrite.objects.filter(status=PendingStatus.PENDING, next_attempt_at__lte=now)
               .order_by("profile_id", "id").values_list("pk", flat=True))
    for pk in due:
        token = claim(pk, now)
        if token is None:
            continue  # another worker has it, or it was withdrawn or replaced meanwhile
        pending = PendingWrite.objects.select_related("profile__directory", "actor").get(pk=pk)
        try:
            row = _retry_one(pending, token)
        except Exception as exc:  # noqa: BLE001 - one bad row must never stop the queue
            log.exception("pending write retry failed pending=%s", pk)
            pending.attempts = PendingWrite.objects.get(pk=pk).attempts + 1  # this try counts
            row = _still_pending(pending, token, f"the retry failed: {type(exc).__name__}: {exc}")
        counts.rows.append(row)
        if row.outcome == WriteResultKind.WRITTEN:
            counts.written += 1
        elif row.outcome == WriteResultKind.PENDING:
            counts.still_pending += 1
        elif row.outcome == "ended":
            counts.ended += 1
        else:
            counts.refused += 1
    return counts


def claim(pk: int, now) -> str | None:
    """Claim one due row for this retry (one conditional UPDATE); None when not ours."""
    token = uuid.uuid4().hex
    claimed = PendingWrite.objects.filter(
        pk=pk, status=PendingStatus.PENDING, next_attempt_at__lte=now).update(
        claim_token=token, next_attempt_at=now + CLAIM_LEASE)
    return token if claimed == 1 else None


def _retry_one(pending: PendingWrite, token: str) -> RowOutcome:
    profile = pending.profile
    actor = f"retry of {pending.actor.username if pending.actor else 'system'}"
    try:
        profile_field = _check_still_applies(pending, profile)
    except NoLongerApplies as exc:
        return _finish(pending, token, PendingStatus.ENDED, f"no longer applies: {exc}", "ended")
    is_picture = profile_field.type == FieldType.PICTURE
    value = picture_bytes(pending.value) if is_picture else pending.value
    seen = picture_bytes(pending.expected) if is_picture else pending.expected
    try:
        new, expected = ldap_values_of(profile_field.type, pending.attribute, value, seen)
    except UnwritableValue as exc:
        return _finish(pending, token, PendingStatus.ENDED, f"no longer applies: {exc}", "ended")
    pending.attempts += 1
    writer = None
    try:
        writer = DirectoryWriter(profile.directory)
        with writer:
            dn = _entry_dn(writer, profile)
            result = writer.write(dn, pending.attribute, new, expected)
    except NoLongerApplies as exc:
        return _finish(pending, token, PendingStatus.ENDED, f"no longer applies: {exc}", "ended")
    except DirectoryError as exc:
        kind = outcome_of(exc, connecting=writer is None)
        audit(profile, actor, pending.attribute, profile_field.type, expected, new, kind,
              message=str(exc))
        if kind == WriteResultKind.CONFLICT:
            assert isinstance(exc, WriteConflict)
            theirs = from_ldap_values(profile_field.type, exc.current)
            shown = "a different picture" if is_picture else repr(theirs)
            mine = "your picture" if is_picture else f"your value {pending.value!r}"
            store_directory_value(profile, profile_field, list(exc.current))
            return _finish(pending, token, PendingStatus.REFUSED,
                           f"changed in the directory while waiting: the directory now holds "
                           f"{shown}; {mine} was not written", WriteResultKind.CONFLICT)
        if kind == WriteResultKind.PENDING:
            return _still_pending(pending, token, str(exc))
        return _finish(pending, token, PendingStatus.REFUSED, str(exc), WriteResultKind.REFUSED)
    audit(profile, actor, pending.attribute, profile_field.type, expected, new,
          WriteResultKind.WRITTEN, method=result.method, dn=dn)
    store_directory_value(profile, profile_field, new)
    return _finish(pending, token, PendingStatus.DONE, "", WriteResultKind.WRITTEN)


def _check_still_applies(pending: PendingWrite, profile: Profile) -> ProfileField:
    """The field to write, or :class:`NoLongerApplies` with the reason."""
    if not profile.active:
        raise NoLongerApplies("the person's profile was deactivated")
    if not writeback_enabled_globally():
        raise NoLongerApplies("write-back to the directory was turned off (Data Sources)")
    profile_field = ProfileField.objects.filter(key=pending.field_key).first()
    if profile_field is None:
        raise NoLongerApplies(f"the field {pending.field_key!r} was deleted")
    if pending.field_type and profile_field.type != pending.field_type:
        raise NoLongerApplies(f"the field's type changed from {pending.field_type} to "
                              f"{profile_field.type}")
    reason = fed_field_lock_reason(profile_field, True)
    if reason:
        raise NoLongerApplies(reason)
    attribute = attribute_in(profile_field, profile.directory)
    if attribute.lower() != pending.attribute.lower():
        raise NoLongerApplies(f"the field is now mapped to {attribute or 'no attribute'!r}, "
                              f"not {pending.attribute!r}")
    return profile_field


def unique_id_value(directory, unique_id: str) -> bytes:
    """The profile's stored unique ID as the directory holds it (objectGUID: 16 bytes)."""
    attribute = (directory.unique_id_attribute or directory.vendor_info.unique_id_attribute)
    if attribute.lower() == "objectguid":
        try:
            return uuid.UUID(unique_id).bytes_le
        except ValueError:
            return bytes.fromhex(unique_id)
    return unique_id.encode("utf-8")


def _entry_dn(writer: DirectoryWriter, profile: Profile) -> str:
    """The DN of the person's own entry now: the stored DN while the entry there carries
    their unique ID, else where that ID is now (the profile's DN follows), else gone."""
    directory = profile.directory
    attribute = directory.unique_id_attribute or directory.vendor_info.unique_id_attribute
    found = read_attributes(writer.conn, profile.dn, [attribute])
    values = (found or {}).get(attribute.lower(), [])
    if values and directory.vendor_info.decode_unique_id(values[0]) == profile.unique_id:
        return profile.dn
    moved = find_entry_by_unique_id(writer.conn, directory.base_dn, attribute,
                                    unique_id_value(directory, profile.unique_id))
    if moved is None:
        what = "holds another person's entry" if found is not None else "no longer exists"
        raise NoLongerApplies(f"the person's entry is gone from the directory (the DN "
                              f"{profile.dn} {what})")
    Profile.objects.filter(pk=profile.pk).update(dn=moved)
    profile.dn = moved
    return moved


def _still_pending(pending: PendingWrite, token: str, reason: str) -> RowOutcome:
    PendingWrite.objects.filter(pk=pending.pk, claim_token=token).update(
        attempts=pending.attempts, reason=reason, claim_token="",
        next_attempt_at=timezone.now() + backoff(pending.attempts), updated_at=timezone.now())
    return RowOutcome(pending, WriteResultKind.PENDING, reason)


def _finish(pending: PendingWrite, token: str, status: str, reason: str,
            outcome: str) -> RowOutcome:
    PendingWrite.objects.filter(pk=pending.pk, claim_token=token).update(
        status=status, reason=reason, attempts=pending.attempts, next_attempt_at=None,
        claim_token="", updated_at=timezone.now())
    pending.status, pending.reason = status, reason
    return RowOutcome(pending, outcome, reason)
