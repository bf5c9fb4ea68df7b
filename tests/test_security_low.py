"""Finding 5 (the Low items) and 6 (one way to change a setting), each as a user notices it."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import call_command

from profilesync.accounts.roles import Role, set_role
from profilesync.api.tokens import issue_token
from profilesync.profiles.models import Profile, ProfileField
from profilesync.testing.web_clients import bearer, browser_client, post_form
from profilesync.writeback.models import WriteAudit

pytestmark = pytest.mark.django_db

HUGE_PAGE = "9223372036854775807"


def signed_in(django_user_model, role: Role, name: str | None = None):
    user = django_user_model.objects.create_user(name or f"{role.value}-low")
    set_role(user, role)
    client = browser_client()
    client.force_login(user)
    return client, user


# -- a searchable field no profile shows is not searchable -------------------------------

@pytest.fixture
def ursula(fresh_install, subtree, make_directory, sync_directory):
    """Ursula's employeeNumber 'zq7731' feeds a searchable field that profiles do not show."""
    ProfileField.objects.create(key="staff_number", label="Staff number", type="text",
                                ldap_attribute="employeeNumber", searchable=True,
                                shown_in_profile=False, position=98)
    subtree.add_person("ursula", displayName="Ursula Unger", employeeNumber="zq7731")
    sync_directory(make_directory(subtree))
    return Profile.objects.get(username="ursula")


def found(client, words: str) -> list[str]:
    page = client.get("/", {"q": words, "view": "table"}).content.decode()
    return [name for name in ("Ursula Unger",) if name in page]


def test_words_of_a_hidden_field_find_nobody(ursula, django_user_model):
    client, user = signed_in(django_user_model, Role.USER)
    _, token = issue_token(user, "t")

    api = browser_client().get("/api/v1/people", {"q": "zq7731"}, **bearer(token)).json()

    assert found(client, "zq7731") == []
    assert api["count"] == 0
    assert found(client, "ursula") == ["Ursula Unger"]


def test_showing_the_field_makes_it_searchable_again(ursula, django_user_model):
    client, _ = signed_in(django_user_model, Role.USER)
    field = ProfileField.objects.get(key="staff_number")
    field.shown_in_profile = True
    field.save()

    assert found(client, "zq7731") == ["Ursula Unger"]


# -- the audit CSV: no formulas, UTF-8 ---------------------------------------------------

def test_audit_csv_neutralises_formulas_and_says_utf8(fresh_install, django_user_model):
    WriteAudit.objects.create(actor="søren", profile_username="søren", directory_name="corp",
                              dn="uid=søren,ou=people", attribute="title",
                              old_value="-1", new_value='=HYPERLINK("http://evil.test","x")',
                              result="written", message="@SUM(A1:A2)")
    client, _ = signed_in(django_user_model, Role.ADMINISTRATOR)

    response = client.get("/admin/write-back/audit", {"format": "csv"})
    raw = b"".join(response.streaming_content)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert raw.startswith("\ufeff".encode())
    (row,) = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert row["new_value"] == '\'=HYPERLINK("http://evil.test","x")'
    assert row["old_value"] == "'-1" and row["message"] == "'@SUM(A1:A2)"
    assert row["actor"] == "søren"


def test_audit_export_command_csv_neutralises_formulas_and_keeps_non_ascii(fresh_install):
    """``profilesync audit export --csv`` follows the same rule as the web download."""
    WriteAudit.objects.create(actor="+søren", profile_username="søren", directory_name="corp",
                              dn="uid=søren,ou=people", attribute="title",
                              old_value="-1", new_value='=HYPERLINK("http://evil.test","x")',
                              result="written", message="@SUM(A1:A2)")
    out = io.StringIO()

    call_command("audit", "export", "--csv", stdout=out)

    (row,) = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["new_value"] == '\'=HYPERLINK("http://evil.test","x")'
    assert (row["old_value"], row["message"], row["actor"]) == ("'-1", "'@SUM(A1:A2)", "'+søren")
    assert (row["profile_username"], row["dn"]) == ("søren", "uid=søren,ou=people")


# -- the write-back test panel writes only on a POST ----------------------------------

def test_write_test_panel_never_runs_on_a_get(acl_server, acl_directory, django_user_model):
    """A link (or an <img>) on another site cannot make the panel write: a GET with the
    inputs only shows the form, and a POST without the page's CSRF token is refused."""
    client, _ = signed_in(django_user_model, Role.SYSTEM_ADMINISTRATOR)
    inputs = {"directory": acl_directory.pk, "username": "ann", "attribute": "telephoneNumber"}

    linked = client.get("/admin/data-sources/test-write", inputs)
    forged = client.post("/admin/data-sources/test-write", inputs)
    real = post_form(client, "/admin/data-sources/test-write", inputs)

    assert linked.status_code == 200 and linked.context["result"] is None
    assert forged.status_code == 403
    assert real.status_code == 200 and real.context["result"] is not None
    assert 'method="post"' in linked.content.decode()


# -- huge page numbers -------------------------------------------------------------------

def test_a_huge_page_number_is_an_empty_page_not_an_error(fresh_install, django_user_model,
                                                        subtree, make_directory,
                                                        sync_directory):
    subtree.add_person("vera")
    sync_directory(make_directory(subtree))
    client, user = signed_in(django_user_model, Role.USER)
    _, token = issue_token(user, "t")

    page = client.get("/", {"page": HUGE_PAGE})
    searched = client.get("/", {"page": HUGE_PAGE, "q": "vera"})
    api = browser_client().get("/api/v1/people", {"page": HUGE_PAGE}, **bearer(token))
    beyond = browser_client().get("/api/v1/people", {"page": "9" * 40, "q": "vera"},
                                  **bearer(token))

    assert page.status_code == 200 and "There is no page" in page.content.decode()
    assert searched.status_code == 200
    assert api.status_code == 200 and api.json()["people"] == [] and api.json()["count"] == 1
    assert beyond.status_code == 200 and beyond.json()["people"] == []


# -- 6: Data Sources saves through the service the CLI uses ------------------------------

@pytest.mark.django_db(transaction=True)
def test_data_sources_page_saves_through_the_cli_service(monkeypatch, fresh_install,
                                                        django_user_model, cli):
    """The page changes the settings by calling `settings set`'s own service, so the CLI
    reads back exactly what the page stored."""
    from profilesync.sync import datasources

    calls = []
    real = datasources.set_setting

    def spy(key, value):
        calls.append((key, value))
        return real(key, value)

    monkeypatch.setattr(datasources, "set_setting", spy)
    monkeypatch.setattr("profilesync.adminpages.data_sources_views.set_setting", spy)
    client, _ = signed_in(django_user_model, Role.SYSTEM_ADMINISTRATOR)

    response = post_form(client, "/admin/data-sources/", {
        "writeback_enabled": "on", "incremental_sync": "on",
        "last_ldap_sync_date": "01-03-2026 08:00:00"})

    assert response.status_code == 302, response.context["form"].errors
    assert ("writeback_enabled", "on") in calls and ("incremental_sync", "on") in calls
    assert ("last_ldap_sync_date", "01-03-2026 08:00:00") in calls
    assert cli("settings", "get", "writeback_enabled")[1].strip() == "on"


# -- a directory's new URL does not inherit the stored bind password ---------------------

def test_changing_the_url_requires_the_bind_password_again(fresh_install, subtree,
                                                           make_directory, django_user_model):
    """Otherwise "Test connection" would send the stored password to any server typed in."""
    from profilesync.adminpages.directory_form import _initial_of
    from profilesync.directories.secrets import decrypt_secret

    directory = make_directory(subtree)
    stored = directory.bind_password_encrypted
    client, _ = signed_in(django_user_model, Role.SYSTEM_ADMINISTRATOR)
    url = f"/admin/directories/{directory.pk}/"
    form = {k: v for k, v in _initial_of(directory).items() if v not in (None, False)}

    moved = post_form(client, url, {**form, "urls": "ldap://attacker.example:389"})
    directory.refresh_from_db()
    assert moved.status_code == 200
    assert "enter the bind password again" in moved.context["form"].errors["bind_password"][0]
    assert directory.urls != ["ldap://attacker.example:389"]

    same_urls = post_form(client, url, {**form, "page_size": "500"})
    retyped = post_form(client, url, {**form, "urls": "ldap://replica.example:389",
                                      "bind_password": "typed-again-1"})
    directory.refresh_from_db()
    assert retyped.status_code == 302 and same_urls.status_code == 302
    assert directory.urls == ["ldap://replica.example:389"]
    assert decrypt_secret(directory.bind_password_encrypted) == "typed-again-1"
    assert directory.bind_password_encrypted != stored


def test_an_upgrade_drops_the_words_of_hidden_fields_already_stored(ursula, django_user_model):
    """Search texts stored before the fix still held the hidden field's words; the
    upgrade's migration recomputes them."""
    import importlib

    from django.apps import apps

    from profilesync.profiles.search.text import SearchFields, search_columns

    # As an older version stored it: the hidden field's words in the search text.
    old = SearchFields(word_keys=("staff_number",))
    text, _ = search_columns(ursula.display_name, ursula.username, ursula.values,
                             ursula.local_values, old)
    Profile.objects.filter(pk=ursula.pk).update(search_text=text)
    client, _ = signed_in(django_user_model, Role.USER)
    assert found(client, "zq7731") == ["Ursula Unger"]

    importlib.import_module(
        "profilesync.accounts.migrations.0002_hidden_fields_out_of_search"
    ).drop_hidden_words(apps, None)

    assert found(client, "zq7731") == []
