"""Finding 5, the login throttle: atomic, locked only where the failures came from, by network."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import override_settings

from profilesync.accounts.throttle import address_group
from profilesync.testing.web_clients import browser_client, sign_in

LOCKED = "Too many failed logins"
WRONG = "User name and password did not match."


def outcome(response) -> str:
    if response.status_code == 302:
        return "signed in"
    text = response.content.decode()
    return "locked" if LOCKED in text else "wrong" if WRONG in text else text


@pytest.fixture
def admin_account(db):
    return get_user_model().objects.create_superuser("admin", password="local-admin-pw")


@pytest.mark.django_db(transaction=True)
@override_settings(PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER=5)
def test_parallel_guesses_check_no_more_passwords_than_allowed(admin_account, race):
    """20 guesses at once against an allowance of 5: exactly 5 passwords are checked."""
    results = race(20, lambda: outcome(sign_in(browser_client(), "admin", "guess",
                                               address="203.0.113.7")))

    assert sorted(results).count("wrong") == 5
    assert results.count("locked") == 15


@pytest.mark.django_db
@override_settings(PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER=3)
def test_failures_lock_the_name_only_for_the_network_they_came_from(admin_account):
    """Someone guessing the administrator's password locks the name for their own network
    only: the administrator signs in from theirs."""
    for _ in range(3):
        assert outcome(sign_in(browser_client(), "admin", "guess", "203.0.113.7")) == "wrong"

    neighbour = sign_in(browser_client(), "admin", "local-admin-pw", "203.0.113.200")
    elsewhere = sign_in(browser_client(), "admin", "local-admin-pw", "198.51.100.5")

    assert outcome(neighbour) == "locked"  # same /24 as the guesses
    assert outcome(elsewhere) == "signed in"


@pytest.mark.django_db
@override_settings(PROFILESYNC_LOGIN_MAX_FAILURES_PER_ADDRESS=3)
def test_walking_through_an_ipv6_64_gains_nothing(admin_account):
    """Each guess from another address of the same /64 (and other names) still counts
    against that /64's allowance; the next /64 is another network."""
    for index, name in enumerate(["x1", "x2", "x3"]):
        sign_in(browser_client(), name, "guess", f"2001:db8:1:2::{index + 1:x}")

    same_64 = sign_in(browser_client(), "admin", "local-admin-pw", "2001:db8:1:2:ffff::1")
    next_64 = sign_in(browser_client(), "admin", "local-admin-pw", "2001:db8:1:3::1")

    assert outcome(same_64) == "locked"
    assert outcome(next_64) == "signed in"


@pytest.mark.django_db
@override_settings(PROFILESYNC_LOGIN_MAX_FAILURES_PER_USER=3)
def test_signing_in_forgets_the_failures_from_that_network(admin_account):
    for _ in range(2):
        sign_in(browser_client(), "admin", "typo", "192.0.2.10")
    assert outcome(sign_in(browser_client(), "admin", "local-admin-pw", "192.0.2.10")) \
        == "signed in"

    for _ in range(2):
        assert outcome(sign_in(browser_client(), "admin", "typo", "192.0.2.10")) == "wrong"


@pytest.mark.parametrize(("address", "group"), [
    ("192.0.2.77", "192.0.2.0/24"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("::ffff:192.0.2.77", "192.0.2.0/24"),
    ("not-an-address", "not-an-address"),
])
def test_address_groups(address, group):
    assert address_group(address) == group
