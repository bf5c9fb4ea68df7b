"""The one door to the administration area: ``@admin_page(permission)`` on every view.

Anonymous visitors are sent to log in; a signed-in person without the permission
gets a 403 page that says which role the page needs, for GET and POST alike (unlike
Django's ``user_passes_test``, which sends them to the login page again). The check
is Django's own ``user.has_perm``, answered from the role by
``accounts.permissions.RolePermissionBackend``: this is ``login_required`` plus
``permission_required(..., raise_exception=True)`` with a page that names the role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from profilesync.accounts.permissions import who_may


def refused(request: HttpRequest, permission: str) -> HttpResponse:
    """The 403 page: who may open it, and who you are."""
    return render(request, "adminpages/refused.html", {"role": who_may(permission)}, status=403)


def admin_page(permission: str) -> Callable[[Callable], Callable]:
    """Guard a view of the administration area with ``permission``."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not request.user.has_perm(permission):
                return refused(request, permission)
            return view(request, *args, **kwargs)

        guarded.admin_permission = permission  # read by the authorization matrix test
        return guarded

    return decorator
