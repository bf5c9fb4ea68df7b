"""Logging in: directory users with their directory password, local accounts locally."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from profilesync.profiles.models import Profile
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db

WRONG = "User name and password did not match."


def login(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password}, follow=True)


@pytest.fixture
def alice(subtree, make_directory):
    subtree.add_person("alice", displayName="Alice Archer", userPassword="alice-pw-1")
    subtree.add_person("bob", userPassword="bob-pw-1")
    return make_directory(subtree)


def test_directory_user_logs_in_and_gets_a_profile_before_any_sync(client, alice):
    """Someone the sync has not seen yet logs in with their directory password; their
    profile is created from the directory at that moment."""
    response = login(client, "alice", "alice-pw-1")

    assert response.wsgi_request.user.is_authenticated
    profile = Profile.objects.get(username="alice")
    assert profile.user == response.wsgi_request.user
    assert profile.display_name == "Alice Archer"
    assert "My profile" in response.content.decode()


def test_wrong_password_and_unknown_user_get_the_same_answer(client, alice):
    """Nobody can tell from the answer whether a user name exists."""
    wrong = login(client, "alice", "not-her-password").content.decode()
    unknown = login(client, "nobody-here", "whatever").content.decode()

    assert WRONG in wrong and WRONG in unknown
    assert not get_user_model().objects.filter(username="nobody-here").exists()


@pytest.mark.parametrize("username", ["*", "al*", "alice)(uid=*", "*)(|(uid=*"])
def test_filter_characters_in_the_user_name_match_nobody(client, alice, username):
    """Wildcards and filter syntax typed as a user name are escaped: no one is logged in."""
    assert not login(client, username, "alice-pw-1").wsgi_request.user.is_authenticated


def test_empty_password_is_refused_although_ldap_would_call_it_anonymous(client, alice):
    """An empty password is never sent as a bind (LDAP would accept it as anonymous)."""
    response = client.post("/login/", {"username": "alice", "password": ""}, follow=True)
    assert not response.wsgi_request.user.is_authenticated


@override_settings(PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER=3)
def test_repeated_failures_lock_the_user_name_for_a_while(client, alice):
    """After a few wrong passwords even the right one is refused for a while, with a message
    that says to wait; the same happens for a user name that does not exist."""
    for _ in range(3):
        login(client, "alice", "guess")
        login(client, "ghost", "guess")

    locked = login(client, "alice", "alice-pw-1")
    ghost = login(client, "ghost", "guess").content.decode()

    assert not locked.wsgi_request.user.is_authenticated
    assert "Too many failed logins" in locked.content.decode()
    assert "Too many failed logins" in ghost


def test_local_administrator_logs_in_with_the_local_password(client, alice):
    get_user_model().objects.create_superuser("admin", password="local-admin-pw")
    assert login(client, "admin", "local-admin-pw").wsgi_request.user.is_superuser


def test_directory_user_named_like_the_local_admin_cannot_become_it(client, subtree, alice):
    """A directory entry uid=admin logs in as a separate user, never as the local admin."""
    get_user_model().objects.create_superuser("admin", password="local-admin-pw")
    subtree.add_person("admin", userPassword="dir-admin-pw")

    user = login(client, "admin", "dir-admin-pw").wsgi_request.user

    assert user.is_authenticated and not user.is_superuser
    assert user.username == "admin@corp"


def test_person_removed_from_the_directory_cannot_log_in_again(client, subtree, alice):
    """After their entry is deleted, a person who logged in before cannot log in again, though
    their (deactivated) profile and account stay."""
    assert login(client, "bob", "bob-pw-1").wsgi_request.user.is_authenticated
    client.logout()
    subtree.delete(f"uid=bob,{subtree.people_dn}")
    run_sync([alice], force=True)

    assert not login(client, "bob", "bob-pw-1").wsgi_request.user.is_authenticated
    assert not Profile.objects.get(username="bob").active
