"""Logging in to the web app with Active Directory credentials.

AD users know two login names: the sAMAccountName (``ann``) and the
userPrincipalName (``ann@example.test``). Both must open the same account and
profile; the profile's user name is the sAMAccountName whichever was typed.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from profilesync.profiles.models import Profile

pytestmark = pytest.mark.django_db

ANN_PASSWORD = "Ann-pw-2026!"


def login(client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password}, follow=True)


@pytest.fixture
def ann(ad_ou, ad_directory):
    """Ann Archer in AD with a password, and Bob, whose account is disabled."""
    ad_ou.add_user("ann", password=ANN_PASSWORD, displayName="Ann Archer")
    ad_ou.add_user("bob", password="Bob-pw-2026!", enabled=False)
    return ad_directory(ad_ou)


def test_login_by_sam_account_name(client, ann):
    """``ann`` and her AD password log her in; her profile comes from AD at that moment."""
    response = login(client, "ann", ANN_PASSWORD)

    user = response.wsgi_request.user
    assert user.is_authenticated and user.username == "ann"
    profile = Profile.objects.get(directory=ann, username="ann")
    assert profile.user == user and profile.display_name == "Ann Archer"


def test_login_by_user_principal_name_is_the_same_person(client, ann):
    """``ann@example.test`` logs in the same account and profile as ``ann``."""
    by_upn = login(client, "ann@example.test", ANN_PASSWORD).wsgi_request.user
    client.logout()
    by_sam = login(client, "ann", ANN_PASSWORD).wsgi_request.user

    assert by_upn.is_authenticated and by_sam.is_authenticated
    assert by_upn.pk == by_sam.pk
    assert by_upn.username == "ann"
    assert Profile.objects.filter(directory=ann).values_list("username", flat=True).get() == "ann"


@pytest.mark.parametrize("username", ["ann", "ann@example.test"])
def test_wrong_password_is_refused_by_either_name(client, ann, username):
    assert not login(client, username, "not-her-password").wsgi_request.user.is_authenticated


@pytest.mark.parametrize("username", ["*@example.test", "ann*", "*)(userPrincipalName=*"])
def test_filter_characters_in_a_principal_name_match_nobody(client, ann, username):
    """Wildcards typed into the login name are escaped in both attributes: nobody logs in."""
    assert not login(client, username, ANN_PASSWORD).wsgi_request.user.is_authenticated


def test_disabled_account_cannot_log_in(client, ann):
    """A user whose AD account is disabled is refused, whatever the password."""
    assert not login(client, "bob", "Bob-pw-2026!").wsgi_request.user.is_authenticated


@override_settings(PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER=3)
def test_failures_by_either_name_count_against_one_allowance(client, ann):
    """Guessing with ``ann`` and with ``ann@example.test`` shares one limit: after three
    wrong passwords in all, even the right one is refused by either name."""
    login(client, "ann", "guess-1")
    login(client, "ann@example.test", "guess-2")
    login(client, "ANN", "guess-3")

    for username in ("ann", "ann@example.test"):
        locked = login(client, username, ANN_PASSWORD)
        assert not locked.wsgi_request.user.is_authenticated
        assert "Too many failed logins" in locked.content.decode()
