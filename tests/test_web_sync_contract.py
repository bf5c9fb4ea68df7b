"""The Data Sources and directory pages tell the seed's contract, check patterns when they
are set, and show the page size the server allows (real slapd, CSRF checks on)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from profilesync.directories.models import Directory
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import DataSourceSettings, DirectorySyncState
from profilesync.sync.runner import run_sync
from profilesync.testing.slapd import SlapdServer

pytestmark = pytest.mark.django_db

SERVICE_DN = "cn=sync-service,dc=example,dc=org"


@pytest.fixture
def admin_browser() -> Client:
    client = Client(enforce_csrf_checks=True)
    user = get_user_model().objects.create_superuser("root-admin", password="pw-not-secret-7")
    client.force_login(user)
    return client


def post_with_csrf(client: Client, url: str, data: dict):
    client.get(url)
    token = client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token}, follow=True)


@pytest.fixture
def synced_directory(subtree, make_directory):
    subtree.add_people(2)
    directory = make_directory(subtree)
    run_sync([directory])
    set_setting("incremental_sync", "on")
    return directory


def test_page_states_the_contract_of_the_date(admin_browser, synced_directory):
    page = admin_browser.get("/admin/data-sources/").content.decode()

    assert "the next run is a\n    full sync (mode full: it reads everyone and deactivates whoever" in page
    assert "never gives a watermark to a directory that never synced" in page


def test_saving_the_page_with_the_date_empty_makes_the_next_run_full(admin_browser,
                                                                      synced_directory):
    """Even when the shown date was already empty, saving it empty keeps the contract: every
    watermark is cleared and the page previews a full run with the reason."""
    DataSourceSettings.objects.filter(pk=1).update(last_ldap_sync_date=None)
    assert DirectorySyncState.for_directory(synced_directory).watermark is not None

    response = post_with_csrf(admin_browser, "/admin/data-sources/", {
        "incremental_sync": "on", "last_ldap_sync_date": "",
        f"pattern_{synced_directory.pk}": synced_directory.timestamp_pattern})

    assert DirectorySyncState.for_directory(synced_directory).watermark is None
    assert "Next run: <strong>full</strong> (the Last LDAP sync date is empty)" in (
        response.content.decode())


def test_a_new_directory_previews_its_first_import(admin_browser, synced_directory, subtree,
                                                   make_directory):
    make_directory(subtree, name="newer")
    set_setting("last_ldap_sync_date", "01-06-2026 00:00:00")

    page = admin_browser.get("/admin/data-sources/").content.decode()

    assert "Next run: <strong>full</strong> (first import: full)" in page
    assert "Next run: <strong>incremental</strong>, filter" in page


def test_a_pattern_changed_on_the_page_is_checked_at_once(admin_browser, synced_directory):
    """OpenLDAP silently ignores yyyyMMddHHmmss.Z; saving it shows that at once."""
    response = post_with_csrf(admin_browser, "/admin/data-sources/", {
        "incremental_sync": "on", "last_ldap_sync_date": "",
        f"pattern_{synced_directory.pk}": "yyyyMMddHHmmss.Z"})

    page = response.content.decode()
    assert "corp: pattern &#x27;yyyyMMddHHmmss.Z&#x27; not understood" in page


def test_an_injecting_pattern_is_refused_at_its_field(admin_browser, synced_directory):
    response = post_with_csrf(admin_browser, "/admin/data-sources/", {
        "incremental_sync": "on", "last_ldap_sync_date": "",
        f"pattern_{synced_directory.pk}": "yyyyMMddHHmmss'Z)(uid=*'"})

    assert "would change the search filter" in response.content.decode()
    assert Directory.objects.get(pk=synced_directory.pk).timestamp_pattern == "yyyyMMddHHmmssZ"


def test_directory_page_shows_the_page_size_the_server_allows(admin_browser, tmp_path,
                                                              make_directory, slapd_server):
    """After a run met a page-size limit, the directory page says so at the page size."""
    server = SlapdServer(run_dir=tmp_path / "slapd",
                         limits=f'dn.exact="{SERVICE_DN}" size.pr=4 size.prtotal=unlimited')
    server.load(f"dn: {SERVICE_DN}\nobjectClass: organizationalRole\n"
                "objectClass: simpleSecurityObject\ncn: sync-service\nuserPassword: pw\n\n"
                "dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n"
                + "".join(f"dn: uid=u{i},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\n"
                          f"uid: u{i}\ncn: u\nsn: u\n\n" for i in range(9)))
    with server:
        directory = make_directory(None, urls=[server.ldap_uri], bind_dn=SERVICE_DN,
                                   bind_password="pw", base_dn=server.suffix)
        run_sync([directory], mode="full")

    page = admin_browser.get(f"/admin/directories/{directory.pk}/").content.decode()

    assert ("The server allows at most 4 entries per page; the directory&#x27;s page size is "
            "now 4.") in page


def test_run_page_lists_who_would_have_been_deactivated(admin_browser, subtree, make_directory):
    """A tripped guard: the run's page says why and names the people, so an administrator
    can tell a mistake in the base DN from people who really left."""
    dns = subtree.add_people(10)
    directory = make_directory(subtree)
    run_sync([directory])
    for dn in dns[:4]:
        subtree.delete(dn)
    (result,) = run_sync([directory], mode="full").results

    page = admin_browser.get(f"/admin/sync/{result.run_id}/").content.decode()

    assert "stopped before deactivating anyone" in page
    assert "Would have been deactivated" in page
    assert "user000, user001, user002, user003" in page
