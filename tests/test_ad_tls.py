"""Reaching Active Directory safely: LDAPS and StartTLS with the DC's CA, and plain LDAP refused.

A Samba DC, like an AD with LDAP signing enforced, refuses a simple bind over
an unencrypted connection. The administrator must learn from every place that
shows the failure (Test connection, `directory test` and `test-write`, the sync report)
which setting to change and how: an ldaps:// URL or StartTLS.
"""

from __future__ import annotations

import json

import pytest

from profilesync.directories.connection_test import Outcome, check_connection
from profilesync.sync.models import RunStatus

pytestmark = pytest.mark.django_db

CONNECTION_STEPS = ["Connect", "Bind", "Base DN", "Additional user DN", "Search users"]


def test_ldaps_with_the_dcs_ca_file_passes_every_connection_step(ad_ou, ad_directory):
    """An ldaps:// URL and the DC's CA file: connect, bind, read the OUs and find the users."""
    ad_ou.add_user("ann")
    directory = ad_directory(ad_ou)

    steps = check_connection(directory)

    assert [s.title for s in steps] == CONNECTION_STEPS
    assert all(s.outcome == Outcome.PASSED for s in steps), steps
    assert steps[0].detail.startswith("connected to ldaps://")
    assert "ann" in steps[-1].detail


def test_starttls_with_the_dcs_ca_file_passes_and_syncs(samba_dc, ad_ou, ad_directory,
                                                       sync_directory, profiles):
    """ldap:// with StartTLS on: the connection is encrypted before the bind, and a sync works."""
    ad_ou.add_user("bea", title="Engineer")
    directory = ad_directory(ad_ou, urls=[samba_dc.ldap_uri], start_tls=True)

    steps = check_connection(directory)
    result = sync_directory(directory)

    assert all(s.outcome == Outcome.PASSED for s in steps), steps
    assert steps[0].detail.endswith("with StartTLS")
    assert result.status == RunStatus.SUCCEEDED
    assert profiles(directory)["bea"].values["title"] == "Engineer"


def test_ldaps_without_the_ca_file_fails_naming_the_ca_file(ad_ou, ad_directory):
    """The DC's certificate is not trusted by the system: the test says to set the CA file."""
    directory = ad_directory(ad_ou, ca_file="")

    (connect,) = check_connection(directory)

    assert (connect.title, connect.outcome, connect.setting) == ("Connect", Outcome.FAILED, "ca_file")
    assert "TLS handshake failed" in connect.detail  # not "no LDAP server answered"
    assert "CA file" in connect.hint


@pytest.fixture
def plain_ldap_directory(samba_dc, ad_ou, ad_directory):
    """A directory pointed at the DC over plain ldap://, StartTLS off: what AD refuses."""
    ad_ou.add_user("cid")
    return ad_directory(ad_ou, urls=[samba_dc.ldap_uri], start_tls=False)


def test_plain_ldap_bind_refusal_names_the_url_and_the_fix(plain_ldap_directory):
    """Test connection: the bind fails, at the URL setting, saying to use LDAPS or StartTLS."""
    steps = check_connection(plain_ldap_directory)

    assert [(s.title, s.outcome) for s in steps] == [("Connect", Outcome.PASSED),
                                                     ("Bind", Outcome.FAILED)]
    bind = steps[1]
    assert bind.setting == "url"
    assert "unencrypted connection" in bind.detail
    assert "ldaps://" in bind.hint and "StartTLS" in bind.hint
    assert "password" not in bind.hint.lower()  # not mistaken for a wrong password


def test_plain_ldap_refusal_in_the_sync_report(plain_ldap_directory, sync_directory):
    """A sync over plain LDAP fails with the same advice in its report, imports nothing."""
    result = sync_directory(plain_ldap_directory)

    assert result.status == RunStatus.FAILED
    (error,) = result.errors
    assert "ldaps://" in error["message"] and "StartTLS" in error["message"]
    assert plain_ldap_directory.profiles.count() == 0


def test_plain_ldap_refusal_in_the_directory_test_command(plain_ldap_directory, cli):
    """`profilesync directory test` fails at the bind and names the option to change."""
    code, out, _ = cli("directory", "test", plain_ldap_directory.name)

    assert code == 1
    assert "FAIL  Bind: " in out and "unencrypted connection" in out
    assert "use an ldaps:// URL or turn on StartTLS" in out and "(--url)" in out


def test_directory_test_command_passes_over_ldaps(ad_ou, ad_directory, cli):
    """The same command against the DC over LDAPS with its CA file: every step ok, exit 0."""
    ad_ou.add_user("dee")
    directory = ad_directory(ad_ou)

    code, out, _ = cli("directory", "test", directory.name, "--json")

    report = json.loads(out)
    assert code == 0 and report["ok"], report
    assert [s["title"] for s in report["steps"]] == CONNECTION_STEPS


def test_plain_ldap_refusal_in_the_write_test_command(plain_ldap_directory, cli):
    """`profilesync directory test-write` stops at the bind step with the same advice."""
    code, out, _ = cli("directory", "test-write", plain_ldap_directory.name, "--user", "cid",
                       "--attribute", "title", "--json")

    assert code == 1
    (step,) = json.loads(out)["steps"]
    assert step["name"] == "connection and bind" and not step["ok"]
    assert "ldaps://" in step["detail"] and "StartTLS" in step["detail"]
