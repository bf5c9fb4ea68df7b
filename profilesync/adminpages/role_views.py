"""People and roles (Administrators): every login with its role; changing roles."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from profilesync.accounts.permissions import MANAGE_ROLES
from profilesync.accounts.role_changes import change_role, roles_assignable_by
from profilesync.accounts.roles import Role, role_of
from profilesync.errors import InvalidSetting

from .access import admin_page

PAGE_SIZE = 50


def _page(request: HttpRequest, errors: dict[int, str] | None = None) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    users = get_user_model().objects.select_related("profile__directory").order_by("username")
    if query:
        users = users.filter(Q(username__icontains=query)
                             | Q(profile__display_name__icontains=query))
    page = Paginator(users, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"user": user, "role": role_of(user), "profile": getattr(user, "profile", None),
             "choices": roles_assignable_by(request.user, user),
             "error": (errors or {}).get(user.pk)} for user in page]
    return render(request, "adminpages/people.html", {
        "page": page, "rows": rows, "query": query, "roles": list(Role)})


@admin_page(MANAGE_ROLES)
def people_roles(request: HttpRequest) -> HttpResponse:
    return _page(request)


@admin_page(MANAGE_ROLES)
@require_POST
def change_user_role(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(get_user_model(), pk=pk)
    try:
        role = Role(request.POST.get("role", ""))
    except ValueError:
        return _page(request, {user.pk: "choose one of the roles listed"})
    try:
        change_role(user, role, by=request.user)
    except InvalidSetting as exc:
        return _page(request, {user.pk: exc.message})
    messages.success(request, f"{user.username} is now {role.label.lower()}.")
    # The form's action carries the list's query and page, so the list stays where it was.
    query = request.GET.urlencode()
    return redirect(reverse("admin-people") + (f"?{query}" if query else ""))
