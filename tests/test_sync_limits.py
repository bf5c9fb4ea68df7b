"""Sync against servers configured the way production servers are: page-size limits,
size limits that refuse syncrepl, and the deletions an administrator expects gone."""

from __future__ import annotations

import json

import ldap
import pytest

from profilesync.directories.connection_test import Outcome, check_connection
from profilesync.directories.models import Directory
from profilesync.profiles.models import Profile
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import RunStatus, SyncMode
from profilesync.sync.runner import run_sync
from profilesync.testing.slapd import SlapdServer

pytestmark = pytest.mark.django_db

SERVICE_DN = "cn=sync-service,dc=example,dc=org"
SERVICE_PASSWORD = "service-secret"
PAGE_LIMIT = 7  # size.pr: at most this many entries per page for the service account
SIZE_LIMIT = 10  # size.hard: at most this many entries per unpaged search (syncrepl's refresh)
PEOPLE = 23


def _people_ldif(count: int) -> str:
    return "".join(
        f"dn: uid=user{i:02d},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\n"
        f"uid: user{i:02d}\ncn: User {i}\nsn: {i}\n\n" for i in range(count))


@pytest.fixture
def limited_server(slapd_server, tmp_path):  # slapd_server: fails under CI when slapd is missing
    """A slapd whose service account may ask for pages of at most 7 entries and sees at most
    10 entries in a search that is not paged, like OpenLDAP's ``limits ... size.pr=500``."""
    limits = (f'dn.exact="{SERVICE_DN}" size.pr={PAGE_LIMIT} size.prtotal=unlimited '
              f"size.soft={SIZE_LIMIT} size.hard={SIZE_LIMIT}")
    server = SlapdServer(limits=limits, run_dir=tmp_path / "limited-slapd")
    server.load(
        f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\n"
        f"cn: sync-service\nuserPassword: {SERVICE_PASSWORD}\n\n"
        "dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n"
        + _people_ldif(PEOPLE))
    with server:
        yield server


@pytest.fixture
def limited_directory(limited_server, make_directory):
    return make_directory(None, urls=[limited_server.ldap_uri], bind_dn=SERVICE_DN,
                          bind_password=SERVICE_PASSWORD)


def only_result(report):
    (result,) = report.results
    return result


def test_refused_page_size_finds_the_servers_limit_and_finishes_the_run(
        limited_server, limited_directory):
    """The default page size of 1,000 is refused ("illegal pagedResults page size"); the run
    still imports everyone, says the limit, and the directory keeps it for the next run."""
    conn = ldap.initialize(limited_server.ldap_uri, bytes_mode=False)
    conn.simple_bind_s(SERVICE_DN, SERVICE_PASSWORD)
    control = ldap.controls.SimplePagedResultsControl(True, size=1000, cookie="")
    with pytest.raises(ldap.ADMINLIMIT_EXCEEDED):  # the limit really applies to this account
        conn.result3(conn.search_ext("ou=people,dc=example,dc=org", ldap.SCOPE_ONELEVEL,
                                     "(uid=*)", ["uid"], serverctrls=[control]))
    conn.unbind_s()

    result = only_result(run_sync([limited_directory], mode=SyncMode.FULL))

    assert (result.status, result.created, result.failed) == (RunStatus.SUCCEEDED, PEOPLE, 0)
    note = (f"the server allows at most {PAGE_LIMIT} entries per page; the directory's page "
            f"size is now {PAGE_LIMIT}")
    assert note in result.notes
    stored = Directory.objects.get(pk=limited_directory.pk)
    assert (stored.page_size, stored.page_size_note) == (PAGE_LIMIT, note)


@pytest.mark.django_db(transaction=True)
def test_the_report_and_directory_show_say_the_page_size_the_server_allows(
        limited_directory, cli):
    """`sync --json`, `sync report` and `directory show` tell the administrator the new size."""
    code, out, _ = cli("sync", "--full", "--json")
    assert code == 0, out
    code, out, _ = cli("sync", "report", "--json")
    (run,) = json.loads(out)
    assert any(f"at most {PAGE_LIMIT} entries per page" in n
               for n in run["directories"]["corp"]["notes"])
    code, out, _ = cli("directory", "show", "corp", "--json")
    shown = json.loads(out)
    assert shown["page_size"] == PAGE_LIMIT
    assert f"at most {PAGE_LIMIT} entries per page" in shown["page_size_note"]


def test_connection_test_probes_the_page_size_and_stores_it(limited_directory):
    """"Test connection" (the Save-and-test panel) finds the limit at the base DN step, warns
    with the same sentence, and the first import then never meets the refusal."""
    steps = check_connection(limited_directory)

    by_title = {s.title: s for s in steps}
    assert by_title["Page size"].outcome == Outcome.WARNING
    assert f"at most {PAGE_LIMIT} entries per page" in by_title["Page size"].detail
    assert by_title["Search users"].outcome == Outcome.PASSED
    assert Directory.objects.get(pk=limited_directory.pk).page_size == PAGE_LIMIT


def test_allowed_page_size_is_not_probed_again(limited_server, make_directory):
    """A page size the server allows is used as it is: no note, nothing stored."""
    directory = make_directory(None, urls=[limited_server.ldap_uri], bind_dn=SERVICE_DN,
                               bind_password=SERVICE_PASSWORD, page_size=5)

    result = only_result(run_sync([directory], mode=SyncMode.FULL))

    assert (result.status, result.created, result.notes) == (RunStatus.SUCCEEDED, PEOPLE, [])
    assert Directory.objects.get(pk=directory.pk).page_size == 5
    assert "Page size" not in {s.title for s in check_connection(directory)}


def test_deletion_is_found_by_the_next_run_where_syncrepl_is_refused(limited_directory):
    """With more users than the account's size limit, syncrepl's unpaged refresh is refused;
    the next incremental run still deactivates the deleted person, by a paged search of
    unique IDs, and says so."""
    assert only_result(run_sync([limited_directory], mode=SyncMode.FULL)).created == PEOPLE
    set_setting("incremental_sync", "on")
    limited_server = limited_directory.urls[0]
    admin = ldap.initialize(limited_server, bytes_mode=False)
    admin.simple_bind_s("cn=admin,dc=example,dc=org", "admin-secret")
    admin.delete_s("uid=user05,ou=people,dc=example,dc=org")
    admin.unbind_s()

    result = only_result(run_sync([limited_directory]))

    assert (result.status, result.mode, result.deactivated) == (
        RunStatus.SUCCEEDED, SyncMode.INCREMENTAL, 1)
    assert result.deletions_source.startswith("paged search of unique IDs (syncrepl refused")
    assert "Size limit exceeded" in result.deletions_source
    gone = Profile.objects.get(directory=limited_directory, username="user05")
    assert not gone.active
    assert Profile.objects.filter(directory=limited_directory, active=True).count() == PEOPLE - 1


def test_save_and_test_panel_probes_the_page_size_at_its_base_dn_step(limited_directory):
    """The Data Sources page's "Save and test connection" panel makes the same probe at its
    base-DN step: it says the limit, keeps it, and goes on to find the user."""
    from profilesync.writeback.test_panel import run_test_panel

    result = run_test_panel(limited_directory, "user05", "title")

    steps = {s.name: s for s in result.steps}
    base = steps["base DN and additional user DN"]
    assert base.ok
    assert f"the server allows at most {PAGE_LIMIT} entries per page" in base.detail
    assert steps["user in this directory"].ok
    assert Directory.objects.get(pk=limited_directory.pk).page_size == PAGE_LIMIT
