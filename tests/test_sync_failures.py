"""When a directory's part of a sync fails: a clear reason, and nothing half-done."""

from __future__ import annotations

import json
import logging

import ldap
import pytest

from profilesync.directories.services import create_directory, update_directory
from profilesync.errors import InvalidSetting
from profilesync.profiles.models import Profile
from profilesync.sync.models import DirectoryRunResult, RunStatus
from profilesync.sync.runner import run_sync
from profilesync.testing.slapd import SlapdServer, free_port

pytestmark = pytest.mark.django_db


def all_columns(row) -> dict:
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def snapshot(directory) -> dict:
    """Everything a sync may change about a directory's profiles."""
    return {p.unique_id: (p.username, p.dn, p.active, p.values, p.picture, p.digest, p.updated_at)
            for p in Profile.objects.filter(directory=directory)}


@pytest.fixture
def synced(subtree, make_directory, sync_directory):
    """A directory of ten people, imported once."""
    dns = subtree.add_people(10)
    directory = make_directory(subtree)
    assert sync_directory(directory).created == 10
    return directory, dns


# -- the deactivation guard ----------------------------------------------

def test_guard_stops_a_run_that_would_deactivate_too_many(subtree, synced, sync_directory):
    """When 4 of 10 people vanish (over 20 %, and more than the 3 that may always go),
    nobody is deactivated and nothing else changes."""
    directory, dns = synced
    for dn in dns[:4]:
        subtree.delete(dn)
    subtree.modify(dns[5], title="Changed meanwhile")
    subtree.add_person("newcomer")
    before = snapshot(directory)

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    message = result.errors[0]["message"]
    assert "stopped before deactivating anyone" in message
    assert "4 of 10" in message and "--force" in message
    assert snapshot(directory) == before
    assert not Profile.objects.filter(directory=directory, username="newcomer").exists()


def test_forced_run_deactivates_past_the_guard(subtree, synced, sync_directory):
    """With force, the same run deactivates the missing people and applies the other changes."""
    directory, dns = synced
    for dn in dns[:4]:
        subtree.delete(dn)
    subtree.add_person("newcomer")

    result = sync_directory(directory, force=True)

    assert result.status == RunStatus.SUCCEEDED
    assert (result.deactivated, result.created) == (4, 1)
    assert Profile.objects.filter(directory=directory, active=False).count() == 4
    assert Profile.objects.filter(directory=directory).count() == 11


def test_guard_limit_is_configurable(subtree, synced, sync_directory):
    """A directory allowed to lose half its users at once deactivates 4 of 10 without force."""
    directory, dns = synced
    update_directory(directory, {"max_deactivate_percent": 50, "max_deactivate_percent_24h": 50})
    for dn in dns[:4]:
        subtree.delete(dn)

    result = sync_directory(directory)

    assert (result.status, result.deactivated) == (RunStatus.SUCCEEDED, 4)


def test_empty_user_dn_trips_the_guard_instead_of_deactivating_everyone(
        subtree, synced, sync_directory):
    """Pointing the directory at an empty branch by mistake does not deactivate everybody."""
    directory, _dns = synced
    subtree.add_ou("empty")
    update_directory(directory, {"user_dn": "ou=empty"})
    before = snapshot(directory)

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    assert "10 of 10" in result.errors[0]["message"]
    assert snapshot(directory) == before


# -- connection and configuration failures -----------------------------------

def test_unreachable_server_fails_with_the_url_and_changes_nothing(synced, sync_directory):
    """A directory whose server does not answer fails with its URL named; its profiles stay as they were."""
    directory, _dns = synced
    closed_url = f"ldap://127.0.0.1:{free_port()}"
    update_directory(directory, {"urls": [closed_url], "connect_timeout": 2})
    before = snapshot(directory)

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    message = result.errors[0]["message"]
    assert "no LDAP server answered" in message
    assert closed_url in message
    assert snapshot(directory) == before


def test_second_url_is_used_when_the_first_does_not_answer(subtree, make_directory, sync_directory,
                                                            slapd_server):
    """With a replica list, a dead first server does not stop the sync."""
    subtree.add_people(2)
    directory = make_directory(subtree, urls=[f"ldap://127.0.0.1:{free_port()}",
                                              slapd_server.ldap_uri])

    result = sync_directory(directory)

    assert (result.status, result.created) == (RunStatus.SUCCEEDED, 2)


WRONG_PASSWORD = "Wr0ng-Passw0rd-7c1e"


def test_wrong_bind_password_is_refused_without_revealing_it(
        synced, sync_directory, caplog):
    """A wrong bind password fails the run saying the bind was refused, and never shows the password."""
    directory, _dns = synced
    update_directory(directory, {"bind_password": WRONG_PASSWORD})
    before = snapshot(directory)

    with caplog.at_level(logging.DEBUG, logger="profilesync"):
        result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    message = result.errors[0]["message"]
    assert "refused the bind" in message
    assert directory.bind_dn in message
    for stored in (DirectoryRunResult.objects.get(pk=result.pk), result.run):
        assert WRONG_PASSWORD not in json.dumps(all_columns(stored), default=str)
    assert WRONG_PASSWORD not in caplog.text
    assert snapshot(directory) == before


def test_missing_base_dn_fails_and_deactivates_nobody(synced, sync_directory, slapd_server):
    """A base DN that does not exist fails the run with that reason; no one is deactivated."""
    directory, _dns = synced
    missing = f"ou=gone,{slapd_server.suffix}"
    update_directory(directory, {"base_dn": missing})
    before = snapshot(directory)

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    message = result.errors[0]["message"]
    assert "does not exist" in message and missing in message
    assert "base DN" in message
    assert snapshot(directory) == before


def test_malformed_base_dn_is_refused_when_configured(subtree, directory_options):
    """A base DN that is not a DN at all is refused when the directory is saved, naming the setting."""
    with pytest.raises(InvalidSetting) as caught:
        create_directory("corp", directory_options(subtree, base_dn="example.org"))
    assert caught.value.setting == "base_dn"


def test_filter_the_server_cannot_parse_fails_naming_the_filter(subtree, make_directory,
                                                                sync_directory):
    """A user filter that passes the syntax check but not the server fails with the filter shown."""
    subtree.add_people(1)
    directory = make_directory(subtree, user_filter="(=inetOrgPerson)")

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    assert "(=inetOrgPerson)" in result.errors[0]["message"]
    assert "filter" in result.errors[0]["message"]
    assert not Profile.objects.filter(directory=directory).exists()


@pytest.mark.parametrize(("kind", "reason"), [
    ("internal", "internal directory keeps its users in this application's database"),
    ("crowd", "Crowd) does not expose its users over LDAP"),
    ("jira", "Jira) does not expose its users over LDAP"),
])
def test_non_syncable_directory_types_are_refused_with_the_reason(
        subtree, make_directory, sync_directory, kind, reason):
    """A directory of a kind that cannot be synced is listed but refused, saying why."""
    subtree.add_people(1)
    directory = make_directory(subtree, type=kind)

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    assert "cannot be synced" in result.errors[0]["message"]
    assert reason in result.errors[0]["message"]
    assert not Profile.objects.filter(directory=directory).exists()


def test_delegated_authentication_directories_are_synced(subtree, make_directory, sync_directory):
    """A delegated-LDAP-authentication directory imports profiles like a connector does."""
    subtree.add_people(2)
    directory = make_directory(subtree, type="delegated")

    assert sync_directory(directory).created == 2


def test_one_failing_directory_does_not_stop_the_others(subtree, make_directory):
    """In a run over two directories, the reachable one is imported although the other fails."""
    subtree.add_people(3)
    broken = make_directory(subtree, name="broken", urls=[f"ldap://127.0.0.1:{free_port()}"])
    working = make_directory(subtree, name="working")

    report = run_sync([broken, working])

    assert not report.ok
    statuses = {r.directory_name: r.status for r in report.results}
    assert statuses == {"broken": RunStatus.FAILED, "working": RunStatus.SUCCEEDED}
    assert Profile.objects.filter(directory=working).count() == 3
    assert not Profile.objects.filter(directory=broken).exists()


# -- a server that limits how many entries one search returns ----------------

SIZE_LIMIT = 5
SERVICE_DN = "cn=sync-service,dc=example,dc=org"
SERVICE_PASSWORD = "service-secret"


@pytest.fixture(scope="module")
def limited_server(slapd_server, tmp_path_factory):  # slapd_server: skip when slapd is missing
    """A slapd whose service account sees at most 5 entries per search, as AD's page limit does."""
    limits = (f'dn.exact="{SERVICE_DN}" size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT} '
              "size.prtotal=unlimited")
    server = SlapdServer(limits=limits, run_dir=tmp_path_factory.mktemp("limited-slapd"))
    people = "".join(
        f"dn: uid=user{i:02d},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\n"
        f"uid: user{i:02d}\ncn: User {i}\nsn: {i}\n\n" for i in range(3 * SIZE_LIMIT + 2))
    server.load(
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: sync-service\nuserPassword: {SERVICE_PASSWORD}\n\n"
        "dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n"
        + people)
    with server:
        yield server


@pytest.mark.parametrize("page_size", [SIZE_LIMIT - 2, 1000])
def test_paged_search_sees_everyone_past_the_server_size_limit(
        limited_server, make_directory, sync_directory, page_size):
    """A service account limited to 5 entries per search still imports all 17 people."""
    conn = ldap.initialize(limited_server.ldap_uri, bytes_mode=False)
    conn.simple_bind_s(SERVICE_DN, SERVICE_PASSWORD)
    with pytest.raises(ldap.SIZELIMIT_EXCEEDED):  # the limit really applies to this account
        conn.search_s("ou=people,dc=example,dc=org", ldap.SCOPE_ONELEVEL, "(uid=*)")
    conn.unbind_s()

    directory = make_directory(None, urls=[limited_server.ldap_uri], bind_dn=SERVICE_DN,
                               bind_password=SERVICE_PASSWORD, page_size=page_size)
    result = sync_directory(directory)

    assert (result.status, result.created) == (RunStatus.SUCCEEDED, 3 * SIZE_LIMIT + 2)


def test_start_tls_refused_by_the_server_fails_naming_tls(subtree, synced, sync_directory):
    """Turning on StartTLS against a server without TLS fails with a TLS error, changing nothing."""
    directory, _dns = synced
    update_directory(directory, {"start_tls": True})
    before = snapshot(directory)

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    message = result.errors[0]["message"]
    assert "StartTLS" in message and directory.urls[0] in message
    assert "does not offer StartTLS" in message and "turn StartTLS off" in message
    assert snapshot(directory) == before
