"""Finding 4: API tokens can write; browser sessions still need their CSRF token.

A script with ``Authorization: Bearer`` writes (``PATCH /api/v1/people/me``,
``POST /api/v1/sync/runs``) without any CSRF token, since no browser adds that
header to a cross-site request. A request carrying only a session cookie is
refused without the CSRF token, as on the web pages.
"""

from __future__ import annotations

import json

import pytest

from profilesync.accounts.roles import Role, set_role
from profilesync.api.tokens import issue_token
from profilesync.profiles.models import Profile, ProfileField
from profilesync.testing.web_clients import bearer, browser_client, csrf_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def quinn(fresh_install, subtree, make_directory, sync_directory, django_user_model):
    """Quinn, a directory person with a login, and a field of their own ("nickname")."""
    subtree.add_person("quinn")
    sync_directory(make_directory(subtree))
    ProfileField.objects.create(key="nickname", label="Nickname", type="text", position=99,
                                shown_in_profile=True)
    profile = Profile.objects.get(username="quinn")
    profile.user = django_user_model.objects.create_user("quinn")
    profile.save(update_fields=["user"])
    return profile


def patch_me(client, nickname: str, **headers):
    return client.patch("/api/v1/people/me", json.dumps({"values": {"nickname": nickname}}),
                        content_type="application/json", **headers)


def test_a_token_writes_without_csrf(quinn):
    _, token = issue_token(quinn.user, "script")

    response = patch_me(browser_client(), "Q", **bearer(token))

    assert response.status_code == 200, response.content
    quinn.refresh_from_db()
    assert quinn.local_values["nickname"] == "Q"


def test_a_session_without_its_csrf_token_cannot_write(quinn):
    browser = browser_client()
    browser.force_login(quinn.user)

    refused = patch_me(browser, "Forged")
    allowed = patch_me(browser, "Mine", HTTP_X_CSRFTOKEN=csrf_token(browser))

    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]
    assert allowed.status_code == 200
    quinn.refresh_from_db()
    assert quinn.local_values["nickname"] == "Mine"


def test_a_system_administrator_token_queues_a_sync(django_user_model, fresh_install):
    from django_tasks_db.models import DBTaskResult

    root = django_user_model.objects.create_user("root-token")
    set_role(root, Role.SYSTEM_ADMINISTRATOR)
    _, token = issue_token(root, "ops")
    before = DBTaskResult.objects.count()

    response = browser_client().post("/api/v1/sync/runs", **bearer(token))

    assert response.status_code in (200, 202), response.content
    assert DBTaskResult.objects.count() == before + 1


def test_a_user_token_cannot_queue_a_sync(quinn):
    _, token = issue_token(quinn.user, "script")

    assert browser_client().post("/api/v1/sync/runs", **bearer(token)).status_code == 403


def test_no_credentials_is_401_not_a_csrf_failure(fresh_install):
    response = patch_me(browser_client(), "Anyone")

    assert response.status_code == 401


def test_a_wrong_token_with_no_session_is_401(fresh_install):
    assert patch_me(browser_client(), "X", **bearer("psk_not-a-real-token")).status_code == 401
