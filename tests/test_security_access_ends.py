"""Finding 2: removing someone from the directory removes their access, at once.

A sync that deactivates a profile makes the login inactive, ends its sessions and
deletes its API tokens; the person coming back can sign in again, but no old
session or token works again. Tokens may also expire by themselves.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from profilesync.accounts.deactivation import end_access_of_deactivated
from profilesync.api.models import ApiToken
from profilesync.api.tokens import issue_token, parse_expiry
from profilesync.errors import InvalidSetting
from profilesync.profiles.models import Profile
from profilesync.testing.web_clients import bearer, browser_client, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def corp(subtree, make_directory, sync_directory):
    """Directory "corp" with dora (who will leave) and eve, synced."""
    dora_dn = subtree.add_person("dora", displayName="Dora Dunn", userPassword="dora-pw-1")
    subtree.add_person("eve", displayName="Eve Early", userPassword="eve-pw-1")
    directory = make_directory(subtree)
    sync_directory(directory)
    return directory, dora_dn


def signed_in_with_token(username: str, password: str):
    """A browser session and an API token of the person, both working."""
    browser = browser_client()
    assert sign_in(browser, username, password).status_code == 302
    user = get_user_model().objects.get(username=username)
    _, token = issue_token(user, "laptop script")
    assert browser.get("/").status_code == 200
    assert browser_client().get("/api/v1/people/me", **bearer(token)).status_code == 200
    return browser, token, user


def test_a_sync_that_removes_the_person_ends_sessions_and_tokens(corp, subtree, sync_directory):
    directory, dora_dn = corp
    browser, token, user = signed_in_with_token("dora", "dora-pw-1")
    eve_browser, eve_token, _ = signed_in_with_token("eve", "eve-pw-1")

    subtree.delete(dora_dn)
    result = sync_directory(directory, force=True)  # 1 of 2 is past the guard's share

    user.refresh_from_db()
    assert result.deactivated == 1
    assert not user.is_active
    assert not ApiToken.objects.filter(user=user).exists()
    page = browser.get("/")
    assert page.status_code == 302 and page["Location"].startswith("/login/")
    assert browser_client().get("/api/v1/people/me", **bearer(token)).status_code == 401
    # Nobody else is touched.
    assert eve_browser.get("/").status_code == 200
    assert browser_client().get("/api/v1/people/me", **bearer(eve_token)).status_code == 200


def test_access_ends_on_the_next_request_even_before_the_run_is_recorded(corp):
    """The profile row is enough: a deactivated profile's session and token stop working
    at once, whichever way the row was changed (here a bulk update, which sends no signal)."""
    browser, token, user = signed_in_with_token("dora", "dora-pw-1")

    Profile.objects.filter(user=user).update(active=False)

    assert browser.get("/")["Location"].startswith("/login/")
    assert browser_client().get("/api/v1/people/me", **bearer(token)).status_code == 401


def test_a_login_the_directory_still_knows_comes_back_when_they_sign_in(corp):
    """Signing in reads the person's entry again: if the directory still has them (the
    profile was deactivated by mistake), they are active again, with a new session."""
    old_browser, _, user = signed_in_with_token("dora", "dora-pw-1")
    Profile.objects.filter(user=user).update(active=False)
    assert end_access_of_deactivated() == (1, 0)

    fresh = browser_client()
    assert sign_in(fresh, "dora", "dora-pw-1").status_code == 302

    user.refresh_from_db()
    assert user.is_active and fresh.get("/").status_code == 200
    assert old_browser.get("/")["Location"].startswith("/login/")


def test_coming_back_restores_login_but_no_old_session_or_token(corp, subtree, sync_directory):
    directory, dora_dn = corp
    browser, token, user = signed_in_with_token("dora", "dora-pw-1")
    # She leaves the synced branch (ou=people) and comes back: the same entry.
    away_dn = subtree.rename(dora_dn, "uid=dora", subtree.add_ou("leavers"))
    sync_directory(directory, force=True)
    user.refresh_from_db()
    assert not user.is_active

    subtree.rename(away_dn, "uid=dora", subtree.people_dn)
    sync_directory(directory)

    user.refresh_from_db()
    assert user.is_active
    assert browser.get("/")["Location"].startswith("/login/")  # the old session stays ended
    assert browser_client().get("/api/v1/people/me", **bearer(token)).status_code == 401
    fresh = browser_client()
    assert sign_in(fresh, "dora", "dora-pw-1").status_code == 302
    assert fresh.get("/").status_code == 200


def test_an_operator_deactivated_login_does_not_come_back_by_itself(corp):
    """Only logins the directory ended are restored: one an operator turned off stays off."""
    _, _, user = signed_in_with_token("dora", "dora-pw-1")
    user.is_active = False
    user.save()

    assert end_access_of_deactivated() == (0, 0)
    user.refresh_from_db()
    assert not user.is_active
    assert "did not match" in sign_in(browser_client(), "dora", "dora-pw-1").content.decode()


def test_an_expired_token_stops_working(corp):
    _, _, user = signed_in_with_token("eve", "eve-pw-1")
    _, soon = issue_token(user, "one hour", expires_at=timezone.now() + timedelta(hours=1))
    _, past = issue_token(user, "expired", expires_at=timezone.now() - timedelta(seconds=1))

    assert browser_client().get("/api/v1/people/me", **bearer(soon)).status_code == 200
    assert browser_client().get("/api/v1/people/me", **bearer(past)).status_code == 401


@pytest.mark.django_db(transaction=True)
def test_token_create_with_expires(cli, django_user_model):
    django_user_model.objects.create_user("robot", password="pw-robot-1")

    code, token, err = cli("token", "create", "robot", "--name", "ci", "--expires", "30d")
    _, listing, _ = cli("token", "list", "robot", "--json")
    bad_code, _, bad_err = cli("token", "create", "robot", "--name", "x", "--expires", "soon")

    assert code == 0 and token.strip().startswith("psk_")
    assert "It works until" in err
    (row,) = json.loads(listing)
    assert row["expires_at"] is not None
    assert bad_code == 2 and "--expires: 'soon' is neither a duration nor a date" in bad_err


@pytest.mark.parametrize(("text", "days"), [("90d", 90), ("2w", 14), ("36h", 1.5)])
def test_expiry_durations(text, days):
    now = timezone.now()
    assert parse_expiry(text, now) == now + timedelta(days=days)


def test_an_expiry_in_the_past_is_refused():
    with pytest.raises(InvalidSetting, match="not in the future"):
        parse_expiry("2001-01-01")


def test_any_recorded_directory_run_ends_access(corp):
    """The receiver listens to every finished DirectoryRunResult, whoever records it (the
    sync runner, the live-updates listener): access ends without a call in their code."""
    from profilesync.sync.models import DirectoryRunResult, RunStatus, SyncMode, SyncRun

    directory, _ = corp
    _, token, user = signed_in_with_token("dora", "dora-pw-1")
    Profile.objects.filter(user=user).update(active=False)
    run = SyncRun.objects.create(started_at=timezone.now(), mode=SyncMode.INCREMENTAL,
                                 trigger="live", status=RunStatus.SUCCEEDED)

    DirectoryRunResult.objects.create(run=run, directory=directory, directory_name="corp",
                                      status=RunStatus.SUCCEEDED, mode=SyncMode.INCREMENTAL,
                                      started_at=timezone.now(), finished_at=timezone.now())

    user.refresh_from_db()
    assert not user.is_active and not ApiToken.objects.filter(user=user).exists()
