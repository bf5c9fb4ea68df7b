"""Test helpers for web requests made the way a browser makes them: with CSRF checks on.

Django's test client turns CSRF checks off unless asked; the security tests use
``Client(enforce_csrf_checks=True)`` and these helpers, so a form post carries the
token a real page would have given the browser.
"""

from __future__ import annotations

from django.test import Client

CSRF_COOKIE = "csrftoken"


def browser_client() -> Client:
    return Client(enforce_csrf_checks=True)


def csrf_token(client: Client, page: str = "/login/") -> str:
    """The CSRF secret the browser holds (its cookie), fetching ``page`` first if needed."""
    if CSRF_COOKIE not in client.cookies or not client.cookies[CSRF_COOKIE].value:
        client.get(page)
    return client.cookies[CSRF_COOKIE].value


def post_form(client: Client, url: str, data: dict | None = None, **extra):
    """POST ``data`` to ``url`` with the CSRF token a form on the site would carry."""
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": csrf_token(client)},
                       **extra)


def sign_in(client: Client, username: str, password: str, address: str = "127.0.0.1"):
    """Log in through the login page, as a person does."""
    return post_form(client, "/login/", {"username": username, "password": password},
                     REMOTE_ADDR=address)


def bearer(token: str) -> dict:
    """Request headers of a script calling the API with ``token``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
