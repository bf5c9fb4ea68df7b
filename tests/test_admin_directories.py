"""Directories page: add, edit, the bind password never shown back, test connection."""

from __future__ import annotations

import pytest

from profilesync.accounts.roles import Role, set_role
from profilesync.directories.connection_test import Outcome, check_connection
from profilesync.directories.models import Directory
from profilesync.directories.secrets import decrypt_secret
from profilesync.testing.slapd import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def system_admin(client, django_user_model, fresh_install):
    user = django_user_model.objects.create_user("sysadmin-1", password="pw-4-ok")
    set_role(user, Role.SYSTEM_ADMINISTRATOR)
    client.force_login(user)
    return client


@pytest.fixture
def add_form(slapd_server, subtree):
    def values(**overrides) -> dict:
        data = {"name": "corp", "type": "ldap", "vendor": "openldap",
                "urls": slapd_server.ldap_uri, "bind_dn": slapd_server.root_dn,
                "bind_password": slapd_server.root_pw, "base_dn": subtree.dn,
                "user_dn": "ou=people", "page_size": "500", "connect_timeout": "5",
                "operation_timeout": "60", "max_deactivate_percent": "20"}
        data.update(overrides)
        return {k: v for k, v in data.items() if v is not None}

    return values


def edit_form(client, directory, **changes) -> dict:
    """The edit page's values as a browser would post them back, with ``changes``."""
    initial = client.get(f"/admin/directories/{directory.pk}/").context["form"].initial
    data = {k: v for k, v in initial.items() if v not in (None, False)}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_system_administrator_adds_a_directory(system_admin, add_form, subtree):
    response = system_admin.post("/admin/directories/add", add_form(), follow=True)

    directory = Directory.objects.get(name="corp")
    assert directory.base_dn == subtree.dn and directory.user_dn == "ou=people"
    assert directory.page_size == 500
    assert directory.username_attribute == "uid"  # the vendor's default, left empty
    assert "Directory corp added." in response.content.decode()


@pytest.mark.parametrize(("values", "field_name", "message"), [
    ({"name": "corp ldap"}, "name", "must be 1 to 64 letters"),
    ({"urls": "http://ldap.example.org"}, "urls", "must start with ldap://"),
    ({"urls": ""}, "urls", "an LDAP directory needs at least one URL"),
    ({"base_dn": "dc=example,,dc=org"}, "base_dn", "is not a valid DN"),
    ({"base_dn": ""}, "base_dn", "is required"),
    ({"user_filter": "objectClass=person"}, "user_filter", "balanced parentheses"),
    ({"timestamp_pattern": "yyyyMMddHHmm"}, "timestamp_pattern", "has no second"),
    ({"page_size": "0"}, "page_size", "must be greater than 0"),
    ({"page_size": "many"}, "page_size", "whole number"),
    ({"max_deactivate_percent": "120"}, "max_deactivate_percent", "percentage from 0 to 100"),
])
def test_invalid_settings_are_refused_at_their_field(system_admin, add_form, values, field_name,
                                                     message):
    response = system_admin.post("/admin/directories/add", add_form(**values))

    errors = response.context["form"].errors.get(field_name, [])
    assert any(message in error for error in errors), response.context["form"].errors
    assert not Directory.objects.exists()


def test_every_bad_setting_is_named_at_once(system_admin, add_form):
    response = system_admin.post("/admin/directories/add", add_form(
        base_dn="nonsense", user_filter="(uid=*", username_attribute="1uid"))

    assert set(response.context["form"].errors) >= {"base_dn", "user_filter", "username_attribute"}


def test_an_existing_name_is_refused(system_admin, add_form):
    system_admin.post("/admin/directories/add", add_form())

    response = system_admin.post("/admin/directories/add", add_form())

    assert any("exists" in e for e in response.context["form"].errors["name"])


def test_an_internal_directory_needs_no_url(system_admin, add_form):
    response = system_admin.post("/admin/directories/add",
                                 add_form(type="internal", urls="", base_dn=""), follow=True)

    assert Directory.objects.get(name="corp").type == "internal"
    assert "will not be synced" in response.content.decode()


def test_editing_with_an_empty_password_keeps_the_stored_one(system_admin, add_form,
                                                            slapd_server):
    system_admin.post("/admin/directories/add", add_form())
    directory = Directory.objects.get(name="corp")

    system_admin.post(f"/admin/directories/{directory.pk}/",
                      edit_form(system_admin, directory, bind_password="", page_size="250"))

    directory.refresh_from_db()
    assert directory.page_size == 250
    assert decrypt_secret(directory.bind_password_encrypted) == slapd_server.root_pw


def test_a_new_password_replaces_the_stored_one(system_admin, add_form):
    system_admin.post("/admin/directories/add", add_form())
    directory = Directory.objects.get(name="corp")

    system_admin.post(f"/admin/directories/{directory.pk}/",
                      edit_form(system_admin, directory, bind_password="new-pw-42"))

    directory.refresh_from_db()
    assert decrypt_secret(directory.bind_password_encrypted) == "new-pw-42"


def test_changing_the_vendor_moves_untouched_attributes_to_its_defaults(system_admin, add_form):
    """As `directory set --vendor ad` does: attribute settings not edited follow the vendor."""
    system_admin.post("/admin/directories/add", add_form())
    directory = Directory.objects.get(name="corp")

    system_admin.post(f"/admin/directories/{directory.pk}/",
                      edit_form(system_admin, directory, vendor="ad"))

    directory.refresh_from_db()
    assert (directory.username_attribute, directory.unique_id_attribute) == ("sAMAccountName",
                                                                             "objectGUID")


def test_the_bind_password_never_appears_in_any_response(system_admin, add_form, subtree):
    """Not after adding, not on the edit page, not after a refused edit, not in a test."""
    secret = "bind-secret-7f3a"
    subtree.add_person("binder", userPassword=secret)
    bind_dn = f"uid=binder,{subtree.people_dn}"
    responses = [system_admin.post("/admin/directories/add",
                                   add_form(bind_dn=bind_dn, bind_password=secret), follow=True)]
    directory = Directory.objects.get(name="corp")
    url = f"/admin/directories/{directory.pk}/"
    responses += [
        system_admin.get(url),
        system_admin.post(url, edit_form(system_admin, directory, bind_password=secret,
                                         base_dn="not a dn")),
        system_admin.post(url, edit_form(system_admin, directory, bind_password=secret),
                          follow=True),
        system_admin.post(f"{url}test"),
        system_admin.post(f"{url}test", HTTP_HX_REQUEST="true"),
        system_admin.get("/admin/directories/"),
    ]

    for response in responses:
        assert response.status_code == 200
        assert secret not in response.content.decode()
    assert decrypt_secret(Directory.objects.get(name="corp").bind_password_encrypted) == secret


def test_connection_test_passes_every_step_against_the_directory(system_admin, subtree,
                                                                 make_directory):
    subtree.add_people(3)
    directory = make_directory(subtree)

    steps = check_connection(directory)
    page = system_admin.post(f"/admin/directories/{directory.pk}/test",
                             HTTP_HX_REQUEST="true").content.decode()

    assert [s.title for s in steps] == ["Connect", "Bind", "Base DN", "Additional user DN",
                                        "Search users"]
    assert all(s.outcome == Outcome.PASSED for s in steps)
    assert "found 3 users" in steps[-1].detail and "user000" in steps[-1].detail
    assert "Connection test passed." in page


def test_wrong_bind_password_fails_the_bind_step_with_the_hint(system_admin, subtree,
                                                               make_directory):
    directory = make_directory(subtree, bind_password="not-the-password")

    steps = check_connection(directory)
    page = system_admin.post(f"/admin/directories/{directory.pk}/test").content.decode()

    assert [(s.title, s.outcome) for s in steps] == [("Connect", Outcome.PASSED),
                                                     ("Bind", Outcome.FAILED)]
    assert "refused the bind" in steps[1].detail
    assert steps[1].hint == "check the bind DN and bind password"
    assert "Connection test failed." in page and "Check the bind DN and bind password" in page


def test_unreachable_server_fails_the_connect_step(subtree, make_directory):
    directory = make_directory(subtree, urls=[f"ldap://127.0.0.1:{free_port()}"],
                               connect_timeout=2)

    (step,) = check_connection(directory)

    assert (step.title, step.outcome, step.setting) == ("Connect", Outcome.FAILED, "url")
    assert "no LDAP server answered" in step.detail
    assert "check the URL" in step.hint


def test_missing_additional_user_dn_fails_its_step(subtree, make_directory):
    directory = make_directory(subtree, user_dn="ou=nobody")

    steps = check_connection(directory)

    assert [s.title for s in steps if s.passed] == ["Connect", "Bind", "Base DN"]
    assert (steps[-1].title, steps[-1].outcome, steps[-1].setting) == (
        "Additional user DN", Outcome.FAILED, "user_dn")
    assert "ou=nobody" in steps[-1].detail


def test_filter_matching_nobody_is_a_warning(subtree, make_directory):
    subtree.add_people(1)
    directory = make_directory(subtree, user_filter="(objectClass=device)")

    steps = check_connection(directory)

    assert steps[-1].outcome == Outcome.WARNING
    assert "check the user object filter" in steps[-1].hint


def test_an_internal_directory_has_nothing_to_test(fresh_install):
    directory = Directory.objects.create(name="local", type="internal")

    (step,) = check_connection(directory)

    assert step.outcome == Outcome.FAILED and "internal directory" in step.detail
