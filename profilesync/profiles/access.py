"""Who may see and change which profile field, and why not.

Every rule about access to a person's fields is decided here, so the profile
page, the edit dialog and later the API and write-back ask the same questions:

* :func:`can_see_field`: does a viewer see a field on someone's profile page;
* :func:`can_edit_profile`: may a user open someone's edit dialog at all;
* :func:`field_access`: is one field of a profile editable, and if not, why.

A field is *fed by LDAP* in a directory when it has an LDAP attribute there
(the directory's override first, else the field's own). The sync owns such a
field's value; the person owns the others (``Profile.local_values``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from profilesync.accounts.roles import Role, is_administrator, role_of
from profilesync.writeback.rules import (
    NOT_ENABLED_FOR_FIELD,
    NOT_ENABLED_GLOBALLY,
    fed_field_lock_reason,
    writeback_enabled_globally,
)

from .models import FieldAttributeOverride, FieldType, Profile, ProfileField

# The same reason said once for a list of locked fields.
_PLURAL_REASONS = {
    NOT_ENABLED_FOR_FIELD: "These fields come from the directory; write-back is not enabled for them.",
    NOT_ENABLED_GLOBALLY: "These fields come from the directory; write-back to the directory "
                          "is not enabled.",
}


@dataclass(frozen=True)
class FieldAccess:
    """One field of one person's profile, as the edit dialog treats it."""

    field: ProfileField
    attribute: str  # the LDAP attribute feeding the field in the person's directory, "" if none
    editable: bool
    locked_reason: str  # why it is not editable; "" when it is

    @property
    def fed_by_ldap(self) -> bool:
        return bool(self.attribute)

    @property
    def writes_back(self) -> bool:
        """Editable although the directory feeds it: saving writes it to the directory."""
        return self.editable and self.fed_by_ldap


def field_access(field: ProfileField, attribute: str, writeback_globally: bool = False) -> FieldAccess:
    """Whether a field fed by ``attribute`` ("" for none) can be edited, and why not.

    A field the directory does not feed is the person's own. A fed field is editable
    only with write-back on globally and for the field (never a date), and then saving
    writes it to the directory; otherwise the reason says which switch is off.
    """
    if not attribute:
        return FieldAccess(field, "", editable=True, locked_reason="")
    reason = fed_field_lock_reason(field, writeback_globally)
    return FieldAccess(field, attribute, editable=not reason, locked_reason=reason)


def field_accesses(profile: Profile) -> list[FieldAccess]:
    """The access of every field for ``profile``, in the fields' order (three queries)."""
    overrides = dict(FieldAttributeOverride.objects.filter(
        directory_id=profile.directory_id).values_list("field_id", "ldap_attribute"))
    globally = writeback_enabled_globally()
    return [field_access(field, overrides.get(field.pk, field.ldap_attribute), globally)
            for field in ProfileField.objects.all()]


def shared_locked_reason(accesses: list[FieldAccess]) -> str:
    """The one reason several locked fields share, worded for the list; "" when there is
    one locked field or reasons differ (each field then says its own)."""
    locked = [access.locked_reason for access in accesses if not access.editable]
    reasons = set(locked)
    if len(locked) < 2 or len(reasons) != 1:
        return ""
    (reason,) = reasons
    return _PLURAL_REASONS.get(reason, reason)


def can_edit_profile(user, profile: Profile) -> bool:
    """Only the person themselves edits a profile (administrators manage fields, not values)."""
    return user.is_authenticated and profile.user_id is not None and profile.user_id == user.pk


def can_see_field(user, field: ProfileField, profile: Profile) -> bool:
    """Whether ``user`` sees ``field`` on ``profile``'s page (``visible_to`` empty: everyone)."""
    if not field.visible_to:
        return True
    if profile.user_id is not None and profile.user_id == user.pk:
        return True
    return is_administrator(user) or role_of(user).value in field.visible_to


def can_see_picture(user, profile: Profile, fields: list[ProfileField] | None = None) -> bool:
    """Whether ``user`` sees ``profile``'s picture: every picture field is shown on profiles
    and visible to them, the profile page's own rule (``display.profile_view``), so the
    picture's address (ids are sequential) serves no one the page hides it from."""
    if fields is None:
        fields = list(ProfileField.objects.filter(type=FieldType.PICTURE))
    pictures = [field for field in fields if field.type == FieldType.PICTURE]
    return all(field.shown_in_profile and can_see_field(user, field, profile)
               for field in pictures)


def visibility_note(field: ProfileField) -> str:
    """Who sees ``field`` on a profile page, when that is not everyone ("" when it is)."""
    if not field.shown_in_profile:
        return "Not shown on profile pages."
    if field.visible_to and Role.USER.value not in field.visible_to:
        return "Shown only to the person and administrators."
    return ""


def visible_profile(request: HttpRequest, pk: int) -> Profile:
    """The profile ``pk`` if the visitor may see it at all: a deactivated person is shown
    to administrators only (404 to everyone else, as if there were no such person).

    One rule for the profile page, the picture, the business card, the vCard and the org
    chart, so that no page shows a leaver another page hides."""
    profile = get_object_or_404(Profile.objects.select_related("directory"), pk=pk)
    if not profile.active and not is_administrator(request.user):
        raise Http404("no such person")
    return profile
