"""Who is calling the API: a browser session or a personal token.

A browser already signed in uses its session (Django's CSRF check applies to
writes, as on the web pages); a script sends ``Authorization: Bearer psk_…``.
Either way the caller is a login with its role, and the API shows and allows
exactly what the web pages show and allow that login.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer, SessionAuth

from .tokens import user_for_token


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user  # the role checks read request.user, as on the web pages
        return user


# The token first: ninja's session check runs the CSRF check before it looks for a
# session, which would refuse every scripted write (no CSRF token) with 403.
API_AUTH = [TokenAuth(), SessionAuth()]
