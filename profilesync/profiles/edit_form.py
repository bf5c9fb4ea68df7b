"""The "edit your own profile" form: one form field per editable profile field.

Which fields are editable is decided in :mod:`.access`; this module only turns
them into Django form fields that validate per type and into the values to store.
Locked fields never become form fields, so a value posted for one by hand is
simply not read.

Stored shapes (the same the sync gives fed fields): text types as ``str``, a date
as ``YYYY-MM-DD``, a multiselect as a list in the options' order; an empty value
is no key at all.
"""

from __future__ import annotations

import datetime
import json
import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from .access import FieldAccess
from .display import stored_date
from .models import FieldType, Profile, ProfileField
from .picture_upload import MAX_UPLOAD_BYTES, PictureRefused, check_upload_size, prepare_picture

MAX_TEXT = 500
MAX_MULTILINE = 5000
MAX_URL = 2000

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PHONE = re.compile(r"^\+?[0-9 ()./-]+((\s*(x|ext\.?)\s*)[0-9]+)?$", re.IGNORECASE)


def _single_line(value: str) -> None:
    if _CONTROL.search(value):
        raise ValidationError("Use a single line without control characters.", code="control")


class PhoneField(forms.CharField):
    """A phone number as people write it: digits with +, spaces, ( ) - . / and an extension."""

    widget = forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"})
    default_error_messages = {
        "invalid": "Enter a phone number with digits and + ( ) - . / only, e.g. +49 30 1234567.",
    }

    def validate(self, value: str) -> None:
        super().validate(value)
        if value in self.empty_values:
            return
        digits = sum(ch.isdigit() for ch in value)
        if not _PHONE.match(value) or not 3 <= digits <= 20:
            raise ValidationError(self.error_messages["invalid"], code="invalid")


class WebAddressField(forms.URLField):
    """http and https only: the profile page makes the value a link."""

    default_validators = [URLValidator(schemes=["http", "https"])]
    default_error_messages = {"invalid": "Enter a web address such as https://example.org/me."}


def form_field_for(field: ProfileField) -> forms.Field:
    """The form field that validates values of ``field`` (not for pictures)."""
    common = {"label": field.label, "help_text": field.help_text, "required": field.required}
    match field.type:
        case FieldType.MULTILINE:
            return forms.CharField(max_length=MAX_MULTILINE, widget=forms.Textarea(attrs={"rows": 4}),
                                   **common)
        case FieldType.EMAIL:
            return forms.EmailField(widget=forms.EmailInput(attrs={"autocomplete": "email"}),
                                    **common)
        case FieldType.URL:
            return WebAddressField(max_length=MAX_URL, assume_scheme="https", **common)
        case FieldType.PHONE:
            return PhoneField(max_length=40, **common)
        case FieldType.DATE:
            return forms.DateField(
                input_formats=["%Y-%m-%d"],
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={"invalid": "Enter a date as YYYY-MM-DD, e.g. 2026-11-27."},
                **common)
        case FieldType.SELECT:
            choices = [("", "—")] + [(option, option) for option in field.options]
            return forms.ChoiceField(choices=choices, **common)
        case FieldType.MULTISELECT:
            return forms.MultipleChoiceField(
                choices=[(option, option) for option in field.options],
                widget=forms.CheckboxSelectMultiple, **common)
        case _:
            return forms.CharField(max_length=MAX_TEXT, validators=[_single_line], **common)


def stored_value(field: ProfileField, cleaned: object) -> object:
    """The JSON value kept for a cleaned form value; None when there is nothing to keep."""
    if cleaned in (None, "", []):
        return None
    if isinstance(cleaned, datetime.date):
        return cleaned.isoformat()
    if field.type == FieldType.MULTISELECT:
        chosen = set(cleaned)
        return [option for option in field.options if option in chosen]
    if field.type == FieldType.MULTILINE:
        return cleaned.replace("\r\n", "\n")
    return cleaned


def initial_value(field: ProfileField, stored: object) -> object:
    return stored_date(stored) if field.type == FieldType.DATE else stored


REMOVE_PICTURE = "remove-picture"  # a key can never contain "-", so no field is named so
SEEN_PREFIX = "seen-"
WITHDRAW_PREFIX = "withdraw-"


class EditProfileForm(forms.Form):
    """The editable fields of one profile, named by their keys, plus the picture if editable."""

    def __init__(self, accesses: list[FieldAccess], profile: Profile, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.value_fields: dict[str, ProfileField] = {}
        # Fields fed by the directory that this person may write back, with the
        # directory value the dialog showed (sent back hidden, checked on save).
        self.writeback_fields: dict[str, ProfileField] = {}
        self.picture_field: ProfileField | None = None
        self.picture_writes_back = False
        self.new_picture: bytes | None = None
        # Edits of this profile not (yet) in the directory: pending, refused or ended.
        self.open_writes = _open_writes(profile)
        for access in accesses:
            field = access.field
            if not access.editable:
                continue
            if field.type == FieldType.PICTURE:
                if self.picture_field is None:
                    self.picture_writes_back = access.writes_back
                    self._add_picture(field)
                    if access.writes_back:
                        self._add_seen(field.key, profile.picture)
                continue
            self.fields[field.key] = form_field_for(field)
            if access.writes_back:
                self.writeback_fields[field.key] = field
                shown = profile.values.get(field.key)
                waiting = self.open_writes.get(field.key)
                if waiting is not None and waiting.status == "pending":
                    # The person's value, still on its way, checked against what they saw
                    # then: saving it again never overwrites a newer directory value.
                    shown = waiting.value
                    self._add_seen(field.key, waiting.expected)
                else:
                    self._add_seen(field.key, shown)
            else:
                self.value_fields[field.key] = field
                shown = profile.local_values.get(field.key)
            self.initial[field.key] = initial_value(field, shown)
        for key, waiting in self.open_writes.items():
            if key in self.fields:
                self.fields[key].open_write = waiting
                self.fields[WITHDRAW_PREFIX + key] = forms.BooleanField(
                    required=False, label="Withdraw this change" if waiting.status == "pending"
                    else "Dismiss this notice")
                self.fields[key].withdraw = self[WITHDRAW_PREFIX + key]

    def _add_seen(self, key: str, value: object) -> None:
        self.fields[SEEN_PREFIX + key] = forms.JSONField(required=False, widget=forms.HiddenInput)
        self.initial[SEEN_PREFIX + key] = value

    def seen_value(self, key: str) -> object:
        """The directory value the person saw for ``key`` when the dialog opened."""
        return self.cleaned_data.get(SEEN_PREFIX + key)

    def set_seen(self, key: str, value: object) -> None:
        """After a conflict: saving again means "keep mine" over this directory value.

        A picture is carried by its stored name (JSON has no bytes)."""
        if isinstance(value, bytes):
            from .pictures import store_picture

            value = store_picture(value)
        data = self.data.copy()
        data[SEEN_PREFIX + key] = json.dumps(value)
        self.data = data

    def _add_picture(self, field: ProfileField) -> None:
        self.picture_field = field
        size = f"JPEG, PNG or WebP, at most {MAX_UPLOAD_BYTES // 1024 // 1024} MB."
        self.fields[field.key] = forms.FileField(
            label=field.label, required=False,
            help_text=f"{field.help_text} {size}" if field.help_text else size,
            widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
        if self.profile.local_picture:
            self.fields[REMOVE_PICTURE] = forms.BooleanField(label="Remove my picture",
                                                             required=False)

    def clean(self):
        cleaned = super().clean()
        field = self.picture_field
        if field is None or field.key in self.errors:
            return cleaned
        upload = cleaned.get(field.key)
        if upload:
            try:
                check_upload_size(upload.size)
                self.new_picture = prepare_picture(upload.read())
            except PictureRefused as exc:
                self.add_error(field.key, str(exc))
                return cleaned
        removing = bool(cleaned.get(REMOVE_PICTURE)) and not upload
        if field.required and not (upload or (self.profile.local_picture and not removing)):
            self.add_error(field.key, "This field is required.")
        return cleaned

    @property
    def remove_picture(self) -> bool:
        return bool(self.cleaned_data.get(REMOVE_PICTURE)) and self.new_picture is None

    def withdrawn(self) -> list[str]:
        """Keys whose open write the person withdraws: ticked "Withdraw", or a pending
        edit whose field they set back to the directory's value."""
        keys = [key for key in self.open_writes
                if self.cleaned_data.get(WITHDRAW_PREFIX + key)]
        for key, field in self.writeback_fields.items():
            waiting = self.open_writes.get(key)
            if waiting is None or waiting.status != "pending" or key in keys:
                continue
            if (stored_value(field, self.cleaned_data.get(key)) or None) == (
                    self.profile.values.get(key) or None):
                keys.append(key)  # back to what the directory holds: nothing to write
        return keys

    def directory_edits(self) -> list[tuple[str, object, object]]:
        """(key, new value, value seen) for each write-back field the person changed."""
        edits = []
        withdrawn = set(self.withdrawn())
        for key, field in self.writeback_fields.items():
            if key in withdrawn:
                continue
            new = stored_value(field, self.cleaned_data.get(key))
            seen = self.seen_value(key)
            if (new or None) != (seen or None):
                edits.append((key, new, seen))
        if (self.picture_writes_back and self.new_picture is not None
                and self.picture_field.key not in withdrawn):
            edits.append((self.picture_field.key, self.new_picture, self.seen_value(
                self.picture_field.key)))
        return edits

    def local_values(self, stored: dict) -> dict:
        """``stored`` with this form's fields replaced. Other keys (fields the directory feeds
        now, or that were deleted) are kept, so nothing the person entered is lost."""
        values = dict(stored)
        for key, field in self.value_fields.items():
            value = stored_value(field, self.cleaned_data.get(key))
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
        return values


def _open_writes(profile: Profile) -> dict:
    """The latest open write-back per field key (the rows live in ``writeback``)."""
    from profilesync.writeback.pending import open_rows

    if profile.pk is None:
        return {}
    return {row.field_key: row for row in open_rows(profile)}
