"""Who is calling the API: a personal token, or a browser session.

A script sends ``Authorization: Bearer psk_…``; that is tried first and needs no
CSRF token, since a browser never adds an Authorization header to a cross-site
request on its own (a page would need CORS, which this API does not grant). A
browser signed in to the web pages uses its session cookie instead, and then
Django's CSRF check applies to writes, as on the web pages. A request with neither
is anonymous (401). Either way the caller is a login with its role, and the API
shows and allows exactly what the web pages show and allow that login.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from .tokens import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user  # the role checks read request.user, as on the web pages
        return user


class SessionAuth(APIKeyCookie):
    """The browser's session; CSRF-checked only when there is a signed-in session.

    django-ninja's own ``SessionAuth`` checks CSRF before it knows whether there is
    a session at all, so a token request that reached it was refused with 403.
    """

    def __init__(self) -> None:
        from django.conf import settings

        self.param_name = settings.SESSION_COOKIE_NAME
        super().__init__(csrf=False)  # checked below, once a session is known

    def authenticate(self, request: HttpRequest, key: str | None):
        if not key or not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise HttpError(403, "CSRF check failed: a browser session must send the "
                                 "X-CSRFToken header (or use an API token)")
        return request.user


API_AUTH = [TokenAuth(), SessionAuth()]
