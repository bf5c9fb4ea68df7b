"""Changing one's own profile through the API, by the edit dialog's own rules.

The request goes through the dialog's form (``EditProfileForm``) and its save
(``save_own_profile``), so validation, write-back, conflict detection and the
audit are the dialog's: an API client cannot do what the dialog would refuse.
A field left out of the request keeps its value (PATCH). For a field that
writes back to the directory the client may send ``seen``: the directory value
it showed the person. Without it, the value stored now is taken, which detects
a change made in the directory after the last sync or refresh, but not one the
client's own copy predates.

Edits not (yet) in the directory are part of the answer (``pending``: pending,
refused or ended, with the reason), and ``withdraw`` takes one back, as the
dialog's "Withdraw" does.
"""

from __future__ import annotations

import json

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from profilesync.profiles.access import field_accesses
from profilesync.profiles.edit_form import SEEN_PREFIX, EditProfileForm
from profilesync.profiles.models import FieldType, Profile
from profilesync.profiles.self_service import save_own_profile
from profilesync.writeback.pending import open_rows, pending_row
from profilesync.writeback.service import withdraw_open_writes

from .people import person_detail
from .schemas import ApiError, PersonDetail

router = Router(tags=["people"])

Value = str | list[str] | None


class ProfileChange(Schema):
    values: dict[str, Value] = {}
    seen: dict[str, Value] = {}
    withdraw: list[str] = []


class PendingEdit(Schema):
    """An edit not (yet) in the directory; a picture's value is its ``sha256:`` hash."""

    field: str
    value: Value
    state: str  # pending (retried), refused, ended (no longer applies)
    attempts: int
    next_try_at: str | None
    message: str


class MyProfile(PersonDetail):
    pending: list[PendingEdit] = []


class ChangeOutcome(Schema):
    written: list[str]
    saved: list[str]
    pending: dict[str, str]
    withdrawn: list[str] = []


class ChangeRefused(Schema):
    detail: str
    errors: dict[str, list[str]] = {}
    conflicts: dict[str, dict[str, Value]] = {}
    refused: dict[str, str] = {}
    written: list[str] = []


def _own_profile(request: HttpRequest) -> Profile:
    profile = Profile.objects.select_related("directory").filter(user=request.user).first()
    if profile is None:
        raise HttpError(404, "this login has no profile (local logins have none)")
    return profile


@router.get("/people/me", response={200: MyProfile, 404: ApiError})
def my_profile(request: HttpRequest) -> MyProfile:
    """The caller's own profile with the edits not yet in the directory (local logins: 404)."""
    profile = _own_profile(request)
    return MyProfile(**person_detail(request, profile).model_dump(), pending=_pending(profile))


def _pending(profile: Profile) -> list[PendingEdit]:
    return [PendingEdit(**{k: v for k, v in pending_row(row).items()
                           if k not in ("username", "directory")})
            for row in open_rows(profile)]


@router.patch("/people/me", response={200: ChangeOutcome, 404: ApiError, 409: ChangeRefused,
                                      422: ChangeRefused})
def change_my_profile(request: HttpRequest, change: ProfileChange) -> Status:
    """Change fields of the caller's own profile. Pictures are changed on the web page."""
    profile = _own_profile(request)
    accesses = field_accesses(profile)
    _refuse_what_cannot_change(change, accesses)
    unknown = sorted(set(change.withdraw) - {row.field_key for row in open_rows(profile)})
    if unknown:
        raise HttpError(422, f"withdraw: no edit of {', '.join(unknown)} is waiting "
                             "(GET /api/v1/people/me lists them under pending)")
    withdrawn = [key for key in change.withdraw
                 if withdraw_open_writes(profile, key, reason="withdrawn by the person")]
    form = EditProfileForm(accesses, profile, _form_data(change, accesses, profile))
    if not form.is_valid():
        return Status(422, ChangeRefused(
            detail="some values are not valid; nothing was saved",
            errors={key: [str(m) for m in messages] for key, messages in form.errors.items()}))
    outcome = save_own_profile(profile, form, request.user)
    local = sorted(set(change.values) & set(form.value_fields))
    if outcome.conflicts or outcome.refused:
        return Status(409, ChangeRefused(
            detail="the directory did not take some values; your other fields were saved",
            conflicts={key: {"yours": mine, "directory": theirs}
                       for key, (mine, theirs) in outcome.conflicts.items()},
            refused=outcome.refused, written=outcome.written))
    return Status(200, ChangeOutcome(written=outcome.written, saved=local,
                                     pending=outcome.pending, withdrawn=withdrawn))


def _refuse_what_cannot_change(change: ProfileChange, accesses) -> None:
    by_key = {access.field.key: access for access in accesses}
    for key in change.values:
        access = by_key.get(key)
        if access is None:
            raise HttpError(422, f"values.{key}: no such field (GET /api/v1/fields lists them)")
        if access.field.type == FieldType.PICTURE:
            raise HttpError(422, f"values.{key}: pictures are changed on the profile page")
        if not access.editable:
            raise HttpError(422, f"values.{key}: {access.locked_reason}")
        if isinstance(change.values[key], list) and access.field.type != FieldType.MULTISELECT:
            raise HttpError(422, f"values.{key}: a {access.field.type} field takes one text, "
                                 "not a list")


def _form_data(change: ProfileChange, accesses, profile: Profile) -> dict:
    """The dialog's form data: every editable field as stored, the request's values over it."""
    data: dict = {}
    waiting = {row.field_key: row for row in open_rows(profile) if row.status == "pending"}
    for access in accesses:
        field = access.field
        if not access.editable or field.type == FieldType.PICTURE:
            continue
        stored = (profile.values if access.writes_back else profile.local_values).get(field.key)
        seen = stored
        if access.writes_back and field.key in waiting:
            # As the dialog: a pending edit stands (checked against what was seen then)
            # until the request replaces or withdraws it.
            stored, seen = waiting[field.key].value, waiting[field.key].expected
        data[field.key] = _form_value(field.type, change.values.get(field.key, stored))
        if access.writes_back:
            data[SEEN_PREFIX + field.key] = json.dumps(change.seen.get(field.key, seen))
    return data


def _form_value(field_type: str, value: Value) -> object:
    if value is None:
        return [] if field_type == FieldType.MULTISELECT else ""
    if field_type == FieldType.MULTISELECT:
        return value if isinstance(value, list) else [value]
    return value
