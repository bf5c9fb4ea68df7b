"""Who may open an administration page: anonymous visitors log in, others are refused.

Unlike Django's ``user_passes_test`` (which sends a logged-in User to the login
page again), a signed-in person without the role gets a 403 page that says which
role the page needs, for GET and POST alike.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from profilesync.accounts.roles import is_administrator, is_system_administrator


def _page_for(check: Callable[[object], bool], role: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def guarded(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                return render(request, "adminpages/refused.html", {"role": role}, status=403)
            return view(request, *args, **kwargs)

        return guarded

    return decorator


administrator_page = _page_for(is_administrator, "an Administrator or a System Administrator")
system_administrator_page = _page_for(is_system_administrator, "a System Administrator")
