"""The authorization matrix: every URL of the web app and the API, for every kind of caller.

The URLs come from Django's URL resolver (and, for the API, the methods from
django-ninja's own routes), so a new page or endpoint cannot be forgotten: one
without an entry in :data:`MATRIX` fails :func:`test_every_url_is_in_the_matrix`
and its own case below.

Each entry is one row of expected outcomes per HTTP method, for a caller who is
anonymous, a User, an Administrator, a System Administrator, and a person the
directory deactivated (after signing in and making a token). The row is what a
browser session with its CSRF token gets; the other ways in follow from the rules
of :func:`expected`, which are the security policy in short:

* web pages know only sessions: an API token opens no page (it is anonymous there);
* a web form without its CSRF token is refused, whoever sends it;
* the API takes a token without CSRF (no browser adds an Authorization header on
  its own), and a session only with its CSRF token for writes;
* a deactivated person's session and token work nowhere.

Every request runs in a savepoint that is rolled back, so a delete or a queued sync
of one caller does not change what the next one sees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, reverse

from profilesync.accounts.deactivation import end_access
from profilesync.accounts.roles import Role, set_role
from profilesync.api.routes import api
from profilesync.api.tokens import issue_token
from profilesync.demo.people import make_photo
from profilesync.directories.models import Directory
from profilesync.monitoring.models import AlertRecipient
from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.pictures import store_picture
from profilesync.sync.models import RunStatus, SyncMode, SyncPreview, SyncRun

pytestmark = pytest.mark.django_db

# Outcomes, as a caller notices them.
OK = "ok"  # the view answered (2xx, a redirect elsewhere than the login page, its own 400/422)
LOGIN = "login"  # sent to the login page
DENIED = "denied"  # 403: signed in, without the role
CSRF = "csrf"  # 403: a write without its CSRF token
UNAUTH = "unauth"  # 401: the API, without credentials that work
METHOD = "method"  # 405
ABSENT = "absent"  # 404

CALLERS = ("anonymous", "user", "administrator", "system_administrator", "deactivated")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def row(anonymous: str, user: str, administrator: str, system_administrator: str,
        deactivated: str) -> dict[str, str]:
    return dict(zip(CALLERS, (anonymous, user, administrator, system_administrator,
                              deactivated), strict=True))


EVERYONE = row(OK, OK, OK, OK, OK)
SIGNED_IN = row(LOGIN, OK, OK, OK, LOGIN)
ADMINISTRATORS = row(LOGIN, DENIED, OK, OK, LOGIN)
SYSTEM_ADMINISTRATORS = row(LOGIN, DENIED, DENIED, OK, LOGIN)
# A POST-only view behind the guard: the guard answers first, then the method.
ADMINISTRATORS_POST_ONLY = row(LOGIN, DENIED, METHOD, METHOD, LOGIN)
SYSTEM_POST_ONLY = row(LOGIN, DENIED, DENIED, METHOD, LOGIN)
API_SIGNED_IN = row(UNAUTH, OK, OK, OK, UNAUTH)
API_SYSTEM_ADMINISTRATORS = row(UNAUTH, DENIED, DENIED, OK, UNAUTH)


@dataclass(frozen=True)
class Entry:
    methods: dict[str, dict[str, str]]  # HTTP method -> outcome per caller
    target: str = ""  # what the URL's id names: a key of the ``targets`` fixture
    api: bool = False
    public_api: bool = False  # the API's own document: no authentication at all


def web(get: dict, post: dict | None = None, target: str = "") -> Entry:
    return Entry({"GET": get, "POST": post if post is not None else get}, target)


def api_entry(method: str, outcomes: dict, target: str = "", public: bool = False) -> Entry:
    return Entry({method: outcomes}, target, api=True, public_api=public)


MATRIX: dict[str, Entry] = {
    # The people directory and profiles.
    "people": web(SIGNED_IN),
    "profile": web(SIGNED_IN, target="profile"),
    "profile-picture": web(SIGNED_IN, target="profile"),
    # Only the person edits their profile (the target is the User's own).
    "edit-profile": web(row(LOGIN, OK, DENIED, DENIED, LOGIN), target="profile"),
    "business-card": web(SIGNED_IN, target="profile"),
    "person-vcard": web(SIGNED_IN, target="profile"),
    "org": web(SIGNED_IN),
    "org-person": web(SIGNED_IN, target="profile"),
    "org-reports": web(SIGNED_IN, target="profile"),
    # Monitoring: probes answer everyone; metrics only the allowed addresses (the test
    # client's 127.0.0.1 is one by default) or the metrics token.
    "healthz": web(EVERYONE),
    "readyz": web(EVERYONE),
    "metrics": web(EVERYONE),
    "login": web(EVERYONE),
    "logout": web(row(METHOD, METHOD, METHOD, METHOD, METHOD), EVERYONE),
    # Administration: Administrators.
    "admin-fields": web(ADMINISTRATORS),
    "admin-field-add": web(ADMINISTRATORS),
    "admin-field-edit": web(ADMINISTRATORS, target="field"),
    "admin-field-move": web(ADMINISTRATORS_POST_ONLY, ADMINISTRATORS, target="field"),
    "admin-field-delete": web(ADMINISTRATORS, target="field"),
    "admin-people": web(ADMINISTRATORS),
    "admin-people-role": web(ADMINISTRATORS_POST_ONLY, ADMINISTRATORS, target="other_user"),
    # A person's manager, set by hand (the directory does not say): Administrators.
    "edit-manager": web(ADMINISTRATORS, target="profile"),
    "write-audit": web(ADMINISTRATORS),
    # Alert recipients: System Administrators (the sync's own notifications).
    "admin-notifications": web(SYSTEM_ADMINISTRATORS),
    "admin-notifications-mail": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS),
    "admin-notifications-webhook": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS),
    "admin-notifications-test": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS),
    "admin-notifications-remove": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS,
                                      target="recipient"),
    # Administration: System Administrators.
    "admin-directories": web(SYSTEM_ADMINISTRATORS),
    "admin-directory-add": web(SYSTEM_ADMINISTRATORS),
    "admin-directory-edit": web(SYSTEM_ADMINISTRATORS, target="directory"),
    "admin-directory-test": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS, target="directory"),
    "admin-schedule": web(SYSTEM_ADMINISTRATORS),
    "admin-schedule-save": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS, target="job"),
    "admin-schedule-run": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS, target="job"),
    "data-sources": web(SYSTEM_ADMINISTRATORS),
    "check-pattern": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS, target="directory"),
    "write-test-panel": web(SYSTEM_ADMINISTRATORS),
    "sync-report": web(SYSTEM_ADMINISTRATORS),
    "sync-run-now": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS),
    "sync-run": web(SYSTEM_ADMINISTRATORS, target="run"),
    "sync-preview-now": web(SYSTEM_POST_ONLY, SYSTEM_ADMINISTRATORS),
    "sync-preview": web(SYSTEM_ADMINISTRATORS, target="preview"),
    # The API.
    "api:openapi-json": api_entry("GET", EVERYONE, public=True),
    "api:api-root": api_entry("GET", row(ABSENT, ABSENT, ABSENT, ABSENT, ABSENT), public=True),
    "api:my_profile": api_entry("GET", API_SIGNED_IN),
    "api:change_my_profile": api_entry("PATCH", API_SIGNED_IN),
    "api:list_people": api_entry("GET", API_SIGNED_IN),
    "api:person": api_entry("GET", API_SIGNED_IN, target="profile"),
    "api:fields": api_entry("GET", API_SIGNED_IN),
    "api:sync_runs": api_entry("GET", API_SYSTEM_ADMINISTRATORS),
    "api:run_now": api_entry("POST", API_SYSTEM_ADMINISTRATORS),
    "api:sync_run": api_entry("GET", API_SYSTEM_ADMINISTRATORS, target="run"),
}

# The only ways in, per caller: (credentials, sends CSRF token).
WAYS_IN = (("session", True), ("session", False), ("token", True), ("token", False))


def expected(entry: Entry, method: str, caller: str, credentials: str, csrf: bool) -> str:
    """What ``caller`` gets coming in with ``credentials``, with or without the CSRF token."""
    outcome = entry.methods[method][caller]
    unsafe = method not in SAFE_METHODS
    if not entry.api:
        if credentials == "token":
            outcome = entry.methods[method]["anonymous"]  # tokens open no web page
        return CSRF if unsafe and not csrf else outcome
    if entry.public_api:
        return outcome
    signed_in = caller not in ("anonymous", "deactivated")
    if credentials == "session" and unsafe and not csrf and signed_in:
        return CSRF
    return outcome


# -- the URLs, from the resolver ---------------------------------------------------------

def resolver_routes() -> dict[str, str]:
    """``{url name (with namespace): route}`` of every URL pattern of the project."""
    found: dict[str, str] = {}

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(filter(None, (namespace, pattern.namespace)))
                walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                name = ":".join(filter(None, (namespace, pattern.name or "")))
                assert pattern.name, f"/{prefix}{pattern.pattern} has no name: name it and " \
                                     "give it an entry in the matrix"
                found[name] = prefix + str(pattern.pattern)

    walk(get_resolver().url_patterns, "", "")
    return found


def api_methods() -> dict[str, set[str]]:
    """``{api:<operation>: its HTTP methods}`` from django-ninja's routes."""
    methods: dict[str, set[str]] = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                methods.setdefault(f"api:{operation.view_func.__name__}", set()).update(
                    operation.methods)
    return methods


ROUTES = resolver_routes()


def test_every_url_is_in_the_matrix():
    assert sorted(set(ROUTES) - set(MATRIX)) == [], "URLs without an entry in the matrix"
    assert sorted(set(MATRIX) - set(ROUTES)) == [], "entries for URLs that do not exist"


def test_every_api_method_is_in_the_matrix():
    for name, methods in api_methods().items():
        assert name in MATRIX, f"{name} has no entry"
        assert set(MATRIX[name].methods) == methods, f"{name}: {methods} in the API"


# -- the callers -------------------------------------------------------------------------

CSRF_SECRET = "s" * 32  # the browser's csrftoken cookie; sent back as the token


@dataclass
class Caller:
    session_key: str = ""
    token: str = ""


@pytest.fixture
def world(fresh_install, django_user_model):
    """The callers, each with a profile (so /people/me answers), a session and a token;
    and the things the URLs name."""
    directory = Directory.objects.create(name="corp", urls=["ldap://127.0.0.1:1"],
                                         base_dn="dc=example,dc=org")
    picture = store_picture(make_photo(3))
    callers: dict[str, Caller] = {"anonymous": Caller()}
    profiles = {}
    for index, name in enumerate(CALLERS[1:]):
        user = django_user_model.objects.create_user(f"matrix-{name}")
        set_role(user, {"administrator": Role.ADMINISTRATOR,
                        "system_administrator": Role.SYSTEM_ADMINISTRATOR}.get(name, Role.USER))
        profiles[name] = Profile.objects.create(
            directory=directory, unique_id=f"u-{index}", username=user.username,
            display_name=f"Matrix {name}", user=user, picture=picture)
        client = Client()
        client.force_login(user)
        _, token = issue_token(user, "matrix")
        callers[name] = Caller(client.cookies[settings.SESSION_COOKIE_NAME].value, token)
    deactivated = profiles["deactivated"]
    Profile.objects.filter(pk=deactivated.pk).update(active=False)
    end_access(deactivated.user)
    targets = {
        "profile": profiles["user"].pk,
        "field": ProfileField.objects.get(key="title").pk,
        "other_user": django_user_model.objects.create_user("matrix-target").pk,
        "directory": directory.pk,
        "job": "bulk_profile_update",
        "preview": SyncPreview.objects.create(requested_at="2026-01-01T00:00:00Z",
                                              requested_by="matrix").pk,
        "recipient": AlertRecipient.objects.create(kind="mail", target="ops@example.org").pk,
        "run": SyncRun.objects.create(started_at="2026-01-01T00:00:00Z", mode=SyncMode.FULL,
                                      status=RunStatus.SUCCEEDED).pk,
    }
    return callers, targets


def url_of(name: str, entry: Entry, targets: dict) -> str:
    route = ROUTES[name]
    if not entry.target:
        return reverse(name)
    parameter = route.split("<", 1)[1].split(">", 1)[0].split(":")[-1]
    return reverse(name, kwargs={parameter: targets[entry.target]})


def outcome_of(response) -> str:
    status = response.status_code
    if status in (301, 302) and response["Location"].startswith(reverse("login")):
        return LOGIN
    if status == 403:
        text = response.content.decode(errors="replace")
        # Django's page for a failed CSRF check, or the API's answer.
        return CSRF if "CSRF verification failed" in text or "CSRF check failed" in text \
            else DENIED
    # 400 and 422: the (empty) input refused by a form or the API, past authorization;
    # 503: /readyz's "not ready".
    return {401: UNAUTH, 404: ABSENT, 405: METHOD}.get(
        status, OK if status < 400 or status in (400, 422, 503) else f"status {status}")


def call(method: str, url: str, caller: Caller, credentials: str, csrf: bool):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF_SECRET
    headers = {}
    if credentials == "session" and caller.session_key:
        client.cookies[settings.SESSION_COOKIE_NAME] = caller.session_key
    if credentials == "token" and caller.token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {caller.token}"
    form = {}
    if csrf:
        headers["HTTP_X_CSRFTOKEN"] = CSRF_SECRET
        form["csrfmiddlewaretoken"] = CSRF_SECRET
    with transaction.atomic():
        if method == "GET":
            response = client.get(url, **headers)
        elif method == "POST":
            response = client.post(url, form, **headers)
        else:
            response = client.generic(method, url, json.dumps({"values": {}}),
                                      content_type="application/json", **headers)
        transaction.set_rollback(True)  # the next caller finds everything as it was
    return response


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_matrix(name, world):
    """Every caller, every way in, every method of one URL: the expected outcome each time."""
    if name not in MATRIX:
        pytest.fail(f"{name} (/{ROUTES[name]}) has no entry in the authorization matrix")
    entry = MATRIX[name]
    callers, targets = world
    url = url_of(name, entry, targets)
    wrong = []
    for method in entry.methods:
        for caller_name, caller in callers.items():
            for credentials, csrf in WAYS_IN:
                want = expected(entry, method, caller_name, credentials, csrf)
                got = outcome_of(call(method, url, caller, credentials, csrf))
                if got != want:
                    wrong.append(f"{method} {url} {caller_name} {credentials} "
                                 f"{'with' if csrf else 'without'} CSRF: {got}, expected {want}")
    assert wrong == []
