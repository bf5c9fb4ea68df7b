"""A person's profile page, their picture, and the dialog where they edit their own profile.

The edit dialog is one view for two clients: htmx asks for the ``<dialog>``
fragment and opens it over the profile page; a browser without JavaScript gets
the same form as a page of its own.
"""

from __future__ import annotations

import io
import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from profilesync.accounts.roles import is_administrator
from profilesync.writeback.display import open_writes

from .access import (
    can_edit_profile,
    can_see_picture,
    field_accesses,
    shared_locked_reason,
    visibility_note,
    visible_profile,
)
from .display import OTHER_CATEGORY, is_empty, profile_view, value_of
from .edit_form import REMOVE_PICTURE, EditProfileForm
from .models import FieldType, Profile
from .pictures import content_type_for, picture_bytes
from .self_service import refresh_for_editing, save_own_profile


@login_required
def profile_page(request: HttpRequest, pk: int) -> HttpResponse:
    profile = visible_profile(request, pk)
    view = profile_view(profile, field_accesses(profile), request.user)
    return render(request, "profiles/profile.html", {
        "profile": profile,
        "view": view,
        "can_edit": can_edit_profile(request.user, profile),
        "viewer_is_administrator": is_administrator(request.user),
        # Edits waiting for (or refused by) the directory: the person and administrators.
        "open_writes": (list(open_writes(profile).values())
                        if can_edit_profile(request.user, profile)
                        or is_administrator(request.user) else []),
    })


@login_required
def profile_picture(request: HttpRequest, pk: int) -> FileResponse:
    profile = visible_profile(request, pk)
    if not can_see_picture(request.user, profile):
        raise Http404("no picture")  # as for someone without one: nothing to learn here
    name = profile.shown_picture
    data = picture_bytes(name)
    if data is None:
        raise Http404("no picture")
    response = FileResponse(io.BytesIO(data), content_type=content_type_for(name))
    # The name changes with the content, so a cached copy is never stale.
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
def edit_profile(request: HttpRequest, pk: int) -> HttpResponse:
    profile = get_object_or_404(Profile.objects.select_related("directory"), pk=pk)
    if not can_edit_profile(request.user, profile):
        raise PermissionDenied("You can edit only your own profile.")
    as_dialog = request.headers.get("HX-Request") == "true"
    notice = ""
    if request.method == "POST":
        accesses = field_accesses(profile)
        form = EditProfileForm(accesses, profile, request.POST, request.FILES)
        if form.is_valid():
            outcome = save_own_profile(profile, form, request.user)
            if not (outcome.conflicts or outcome.refused):
                _report_saved(request, outcome, form)
                url = reverse("profile", args=[profile.pk])
                if as_dialog:
                    return HttpResponse(status=204, headers={"HX-Redirect": url})
                return redirect(url)
            _show_directory_answers(form, outcome)
    else:
        # Fresh directory values, so the dialog shows what the directory holds now.
        profile, notice = refresh_for_editing(profile)
        accesses = field_accesses(profile)
        form = EditProfileForm(accesses, profile)
    context = {
        "profile": profile,
        "form": form,
        **_dialog_sections(profile, accesses, form),
        "notice": notice,
        "remove_picture": form[REMOVE_PICTURE] if REMOVE_PICTURE in form.fields else None,
    }
    template = "profiles/edit_profile_dialog.html" if as_dialog else "profiles/edit_profile.html"
    return render(request, template, context)


def _report_saved(request: HttpRequest, outcome, form: EditProfileForm) -> None:
    if outcome.pending:
        # The same words as the API and `profile set`: why, and when it is tried again.
        for key, reason in outcome.pending.items():
            label = form.fields[key].label if key in form.fields else key
            messages.warning(request, f"Saved. {label}: not in the directory yet, so the "
                             f"change is pending: {reason}")
    else:
        messages.success(request, "Your profile was saved.")


def _show_directory_answers(form: EditProfileForm, outcome) -> None:
    """Conflicts and refusals go to their fields; the person's values stay in the form.

    After a conflict the hidden "seen" value becomes the directory's, so saving again
    means "keep mine" and is checked against what the directory holds now.
    """
    for key, (_mine, theirs) in outcome.conflicts.items():
        is_picture = form.picture_field is not None and key == form.picture_field.key
        shown = ("a different picture" if is_picture else ", ".join(theirs)
                 if isinstance(theirs, list) else (theirs or "(empty)"))
        form.add_error(key if key in form.fields else None,
                       f"Changed in the directory since you opened this: it now holds "
                       f"\u201c{shown}\u201d. Save again to replace it with your value, or "
                       f"keep the directory's (\u201cUse the directory's value\u201d, then save).")
        form.set_seen(key, theirs)
        if key in form.fields and not is_picture:
            # The field offers a button that puts the directory's value in (dialog.js).
            form.fields[key].directory_value = json.dumps(theirs if theirs is not None else "")
    for key, reason in outcome.refused.items():
        form.add_error(key if key in form.fields else None,
                       f"Not written to the directory: {reason}")


def _dialog_sections(profile: Profile, accesses, form: EditProfileForm) -> dict:
    """The dialog's content: editable fields by category first, then the locked ones.

    Locked fields are listed apart and compactly: the person came to change what they
    can, and sees what they cannot, with why (once, when every field has the same reason).
    """
    groups: dict[str, list[dict]] = {}
    locked: list[dict] = []
    for access in accesses:
        field = access.field
        if access.editable:
            if field.key in form.fields:  # a second picture field is not offered (one picture)
                groups.setdefault(field.category or OTHER_CATEGORY, []).append(
                    {"field": field, "bound": form[field.key], "note": visibility_note(field)})
            continue
        value = bool(profile.shown_picture) if field.type == FieldType.PICTURE else value_of(
            profile, access)
        locked.append({"field": field, "access": access, "value": value, "empty": is_empty(value)})
    return {"groups": list(groups.items()), "locked": locked,
            "shared_reason": shared_locked_reason(accesses)}
