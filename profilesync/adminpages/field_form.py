"""The profile editor's form: one field's settings, saved through ``profiles.services``."""

from __future__ import annotations

from django import forms
from django.db import transaction

from profilesync.accounts.permissions import MAP_FIELDS
from profilesync.accounts.roles import Role
from profilesync.directories.models import Directory
from profilesync.directories.validation import check_attribute_name
from profilesync.errors import InvalidSetting
from profilesync.profiles.models import WRITE_BACK_REFUSED_TYPES, FieldType, ProfileField
from profilesync.profiles.services import (
    check_key,
    create_field,
    remove_attribute_override,
    update_field,
)

from .service_forms import ServiceForm

WRITE_BACK_LABEL = "Write data entered by the user into the corresponding LDAP attribute"
MAP_FIELDS_ONLY = "Only a System Administrator changes where a field comes from."
SETTINGS = ("label", "help_text", "category", "type", "options", "required",
            "shown_in_profile", "searchable", "ldap_attribute")


# The profile page's rule (profiles.access): administrators always see every field, so
# the one choice that matters is whether Users see it on other people's profiles.
EVERYONE = "everyone"
ADMINISTRATORS = "administrators"
VISIBLE_TO = {EVERYONE: [], ADMINISTRATORS: [Role.SYSTEM_ADMINISTRATOR.value,
                                            Role.ADMINISTRATOR.value]}


def attribute_field_name(directory: Directory) -> str:
    return f"attribute_{directory.pk}"


class ProfileFieldForm(ServiceForm):
    key = forms.CharField(
        max_length=64, help_text="Used in the API, the CLI and exports; a-z, 0-9 and _, "
        "e.g. office_phone. It cannot be changed later.")
    label = forms.CharField(max_length=200, help_text="What people read, e.g. Office phone.")
    help_text = forms.CharField(max_length=500, required=False,
                                help_text="Shown under the field when people edit their profile.")
    category = forms.CharField(max_length=100, required=False,
                               widget=forms.TextInput(attrs={"list": "categories"}),
                               help_text="Fields of one category are shown together on a profile.")
    type = forms.ChoiceField(choices=FieldType.choices)
    options = forms.CharField(
        required=False, max_length=4000,
        help_text="The choices of a select or multi-select field, comma-separated, "
        "e.g. Sales, Engineering, Support.")
    required = forms.BooleanField(required=False, label="Required",
                                  help_text="People cannot save their profile with it empty.")
    shown_in_profile = forms.BooleanField(required=False, initial=True, label="Shown in profile")
    searchable = forms.BooleanField(required=False, label="Searchable",
                                    help_text="The people search matches its values.")
    visibility = forms.ChoiceField(
        choices=[(EVERYONE, "Everyone"), (ADMINISTRATORS, "Only the person and administrators")],
        initial=EVERYONE, required=False, widget=forms.RadioSelect,
        label="Who sees it on a profile page",
        help_text="The person always sees their own value.")
    ldap_attribute = forms.CharField(
        max_length=100, required=False, label="LDAP attribute",
        help_text="The attribute that feeds this field, e.g. telephoneNumber. Empty: the field "
        "is not read from any directory and people fill it in themselves.")
    write_back = forms.BooleanField(required=False, label=WRITE_BACK_LABEL)

    def __init__(self, *args, field: ProfileField | None = None, actor, directories, **kwargs):
        self.field = field
        self.actor = actor
        # Where a field comes from and whether it writes back: System Administrators only.
        self.may_map = actor.has_perm(MAP_FIELDS)
        self.directories = list(directories)
        if field is not None:
            kwargs.setdefault("initial", _initial_of(field, self.directories))
        super().__init__(*args, **kwargs)
        if field is not None:
            del self.fields["key"]
        if not self.may_map:
            # A disabled field ignores whatever is posted: an Administrator's hand-made
            # POST cannot change it either (and the service refuses it again).
            self.fields["write_back"].disabled = True
            self.fields["ldap_attribute"].disabled = True
            self.fields["ldap_attribute"].help_text = MAP_FIELDS_ONLY
        overrides = {o.directory_id: o.ldap_attribute for o in field.overrides.all()} \
            if field is not None else {}
        for directory in self.directories:
            unmapped = directory.pk in overrides and not overrides[directory.pk]
            self.fields[attribute_field_name(directory)] = forms.CharField(
                max_length=100, required=False, label=f"LDAP attribute in {directory.name}",
                widget=forms.TextInput(attrs={
                    "placeholder": "not read from this directory" if unmapped
                    else "same as the LDAP attribute"}),
                disabled=not self.may_map, help_text="" if self.may_map else MAP_FIELDS_ONLY)

    @property
    def attribute_fields(self):
        return [self[attribute_field_name(d)] for d in self.directories]

    def clean_key(self) -> str:
        try:
            return check_key(self.cleaned_data["key"])
        except InvalidSetting as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self):
        cleaned = super().clean()
        attribute_names = {"ldap_attribute", *(attribute_field_name(d) for d in self.directories)}
        self.check_each(lambda name, value: check_attribute_name(value, name)
                        if name in attribute_names else None)
        return cleaned

    def save(self) -> ProfileField | None:
        """Create or change the field; None (and errors at the fields) when a service refuses."""
        data = self.cleaned_data
        options = {name: data[name] for name in SETTINGS}
        if data["visibility"]:  # absent from a hand-made POST: left as it is
            options["visible_to"] = VISIBLE_TO[data["visibility"]]
        if self.may_map:
            options["write_back"] = data["write_back"]
        else:
            options.pop("ldap_attribute")
        try:
            with transaction.atomic():
                if self.field is None:
                    field = create_field(data["key"], options, actor=self.actor)
                else:
                    field = update_field(self.field, options, actor=self.actor)
                self._save_overrides(field)
        except InvalidSetting as exc:
            self.add_setting_error(exc)
            return None
        return field

    def _save_overrides(self, field: ProfileField) -> None:
        for directory in self.directories:
            name = attribute_field_name(directory)
            if name not in self.changed_data:
                continue
            try:
                if self.cleaned_data[name]:
                    update_field(field, {"ldap_attribute": self.cleaned_data[name]},
                                 directory=directory, actor=self.actor)
                else:
                    remove_attribute_override(field, directory, actor=self.actor)
            except InvalidSetting as exc:
                raise InvalidSetting(name, exc.message) from None


def _initial_of(field: ProfileField, directories) -> dict:
    initial = {name: getattr(field, name) for name in SETTINGS}
    initial["options"] = ", ".join(field.options)
    initial["write_back"] = field.write_back
    users_see = not field.visible_to or Role.USER.value in field.visible_to
    initial["visibility"] = EVERYONE if users_see else ADMINISTRATORS
    overrides = {o.directory_id: o.ldap_attribute for o in field.overrides.all()}
    for directory in directories:
        initial[attribute_field_name(directory)] = overrides.get(directory.pk, "")
    return initial


def write_back_offered(field_type: str) -> bool:
    return field_type not in WRITE_BACK_REFUSED_TYPES
