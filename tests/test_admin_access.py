"""Who reaches which administration page: every page and every form, for every role."""

from __future__ import annotations

import pytest

from profilesync.accounts.roles import Role, set_role
from profilesync.directories.models import Directory
from profilesync.profiles.models import ProfileField

pytestmark = pytest.mark.django_db


@pytest.fixture
def login_as(client, django_user_model):
    """``login_as(role)``: a fresh login with that role, signed in on ``client``."""

    def login(role: Role):
        user = django_user_model.objects.create_user(f"{role.value}-person", password="pw-1-ok")
        set_role(user, role)
        client.force_login(user)
        return user

    return login


@pytest.fixture
def targets(fresh_install, django_user_model):
    """One of each thing the pages act on, so every URL resolves."""
    directory = Directory.objects.create(name="corp", urls=["ldap://127.0.0.1:1"],
                                         base_dn="dc=example,dc=org")
    other = django_user_model.objects.create_user("someone-else", password="pw-2-ok")
    return {"field": ProfileField.objects.get(key="title"), "directory": directory, "user": other}


def admin_pages(targets) -> list[tuple[str, str]]:
    field, user = targets["field"].pk, targets["user"].pk
    return [
        ("get", "/admin/fields/"), ("get", "/admin/fields/add"), ("post", "/admin/fields/add"),
        ("get", f"/admin/fields/{field}/"), ("post", f"/admin/fields/{field}/"),
        ("post", f"/admin/fields/{field}/move"),
        ("get", f"/admin/fields/{field}/delete"), ("post", f"/admin/fields/{field}/delete"),
        ("get", "/admin/people/"), ("post", f"/admin/people/{user}/role"),
        ("get", "/admin/write-back/audit"),
    ]


def system_admin_pages(targets) -> list[tuple[str, str]]:
    directory = targets["directory"].pk
    return [
        ("get", "/admin/directories/"), ("get", "/admin/directories/add"),
        ("post", "/admin/directories/add"),
        ("get", f"/admin/directories/{directory}/"), ("post", f"/admin/directories/{directory}/"),
        ("post", f"/admin/directories/{directory}/test"),
        ("get", "/admin/schedule/"), ("post", "/admin/schedule/bulk_profile_update/"),
        ("post", "/admin/schedule/bulk_profile_update/run"),
        ("get", "/admin/data-sources/"), ("post", "/admin/data-sources/"),
        ("post", f"/admin/data-sources/check-pattern/{directory}"),
        ("get", "/admin/data-sources/test-write"),
        ("get", "/admin/sync/"), ("post", "/admin/sync/run-now"),
    ]


def test_anonymous_visitors_are_sent_to_the_login_page(client, targets):
    """Every administration page and form sends someone not logged in to log in first."""
    for method, url in admin_pages(targets) + system_admin_pages(targets):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/login/"), (method, url)


def test_users_are_refused_every_page_and_form(client, targets, login_as):
    """A User gets "not for you" for every administration page, including hand-made POSTs,
    and nothing changes."""
    login_as(Role.USER)
    fields_before = list(ProfileField.objects.values_list("key", "position", "label"))

    for method, url in admin_pages(targets) + system_admin_pages(targets):
        response = getattr(client, method)(url, {"label": "Hacked", "role": "system-administrator",
                                                 "direction": "up"})
        assert response.status_code == 403, (method, url)
        assert "only a system administrator" in response.content.decode().lower() or \
            "only an administrator" in response.content.decode().lower()

    assert list(ProfileField.objects.values_list("key", "position", "label")) == fields_before
    assert not targets["user"].is_superuser
    assert ProfileField.objects.filter(pk=targets["field"].pk).exists()


def test_administrators_manage_fields_and_people_but_not_directories(client, targets, login_as):
    """An Administrator opens the profile editor and the roles page; directories, scheduled
    jobs, Data Sources and the sync report stay closed."""
    login_as(Role.ADMINISTRATOR)

    for method, url in admin_pages(targets):
        if method == "get":
            assert client.get(url).status_code == 200, url
    for method, url in system_admin_pages(targets):
        response = getattr(client, method)(url)
        assert response.status_code == 403, (method, url)
    directory = Directory.objects.get(pk=targets["directory"].pk)
    assert directory.urls == ["ldap://127.0.0.1:1"]


def test_system_administrators_open_every_page(client, targets, login_as):
    login_as(Role.SYSTEM_ADMINISTRATOR)

    for method, url in admin_pages(targets) + system_admin_pages(targets):
        if method == "get":
            assert client.get(url).status_code == 200, url


def test_navigation_shows_each_role_its_own_pages(client, targets, login_as):
    """The top navigation links only the pages the role may open."""
    login_as(Role.ADMINISTRATOR)
    administrator_nav = client.get("/").content.decode()
    login_as(Role.SYSTEM_ADMINISTRATOR)
    system_nav = client.get("/").content.decode()
    login_as(Role.USER)
    user_nav = client.get("/").content.decode()

    assert 'href="/admin/fields/"' in administrator_nav and 'href="/admin/people/"' in administrator_nav
    assert 'href="/admin/directories/"' not in administrator_nav
    assert 'href="/admin/directories/"' in system_nav and 'href="/admin/schedule/"' in system_nav
    assert "/admin/" not in user_nav
