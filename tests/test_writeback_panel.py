"""The "Save and test connection" checks and conditional writes, against a slapd with ACLs.

The service account cn=sync may write every attribute but ``title``, so the
"insufficient access" answers are the directory's own, not a stand-in.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.modify import WriteConflict, WriteRefused, read_values, write_attribute
from profilesync.testing.slapd import free_port
from profilesync.writeback.test_panel import run_test_panel

pytestmark = pytest.mark.django_db

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"


def step_names_and_results(result) -> list[tuple[str, bool]]:
    return [(s.name, s.ok) for s in result.steps]


def test_every_check_passes_and_the_value_is_left_as_it_was(acl_server, acl_directory):
    """For an attribute the service account may write, all five checks pass and the
    entry keeps its value."""
    result = run_test_panel(acl_directory, "ann", "telephoneNumber")

    assert result.ok, result.as_json()
    assert [name for name, _ in step_names_and_results(result)] == [
        "connection and bind", "base DN and additional user DN", "user in this directory",
        "attribute in the schema", "write access"]
    with connected(acl_directory.connection_settings()) as conn:
        assert read_values(conn, ANN_DN, "telephoneNumber") == [b"+49 30 1111"]


def test_absent_attribute_is_checked_without_adding_a_value(acl_server, acl_directory):
    """An attribute the person has no value for is checked too, and stays absent."""
    result = run_test_panel(acl_directory, "ann", "mobile")

    assert result.ok, result.as_json()
    with connected(acl_directory.connection_settings()) as conn:
        assert read_values(conn, ANN_DN, "mobile") == []


def test_insufficient_access_is_reported_as_such(acl_server, acl_directory):
    """The directory's ACL denies writing title: the last check says "insufficient access"."""
    result = run_test_panel(acl_directory, "ann", "title")

    assert not result.ok
    last = result.steps[-1]
    assert (last.name, last.ok) == ("write access", False)
    assert "insufficient access" in last.detail and "ACL" in last.detail


@pytest.mark.parametrize(("attribute", "expected"), [
    ("fooBarBaz", "no attribute 'fooBarBaz'"),
    ("uidNumber", "not allowed by the entry's object classes"),
])
def test_attribute_missing_from_the_schema_or_not_allowed(acl_server, acl_directory, attribute,
                                                          expected):
    """An unknown attribute, and one the entry's object classes do not allow, fail the schema
    check with the reason."""
    result = run_test_panel(acl_directory, "ann", attribute)

    assert step_names_and_results(result)[-1] == ("attribute in the schema", False)
    assert expected in result.steps[-1].detail


def test_local_account_is_refused_with_the_reason(acl_server, acl_directory):
    """A local login like admin is not a directory user and cannot be tested."""
    get_user_model().objects.create_superuser("admin", password="local-pw-123")

    result = run_test_panel(acl_directory, "admin", "telephoneNumber")

    assert step_names_and_results(result)[-1] == ("user in this directory", False)
    assert "local account" in result.steps[-1].detail


def test_user_of_another_directory_is_refused_naming_it(acl_server, acl_directory,
                                                        subtree, make_directory):
    """A person who belongs to another directory is refused with that directory's name."""
    from profilesync.sync.runner import run_sync

    subtree.add_person("zed")
    other = make_directory(subtree, name="other")
    run_sync([other])

    result = run_test_panel(acl_directory, "zed", "telephoneNumber")

    assert "belongs to the directory 'other'" in result.steps[-1].detail


def test_unknown_user_and_wrong_base_dn_and_unreachable(acl_server, acl_directory):
    """Each earlier failure stops the checks and names what to look at."""
    from profilesync.directories.services import update_directory

    unknown = run_test_panel(acl_directory, "nobody", "telephoneNumber")
    update_directory(acl_directory, {"user_dn": "ou=nowhere"})
    wrong_base = run_test_panel(acl_directory, "ann", "telephoneNumber")
    update_directory(acl_directory, {"user_dn": "", "urls": [f"ldap://127.0.0.1:{free_port()}"]})
    down = run_test_panel(acl_directory, "ann", "telephoneNumber")

    assert step_names_and_results(unknown)[-1] == ("user in this directory", False)
    assert "check the user name" in unknown.steps[-1].detail
    assert step_names_and_results(wrong_base)[-1] == ("base DN and additional user DN", False)
    assert "ou=nowhere" in wrong_base.steps[-1].detail
    assert step_names_and_results(down) == [("connection and bind", False)]
    assert "no LDAP server answered" in down.steps[0].detail


def test_cli_prints_the_steps_as_json_and_exits_1_on_failure(acl_server, acl_directory):
    """`directory test-write --json` prints ok and the steps; exit code 0 only if all pass."""
    out = StringIO()
    call_command("directory", "test-write", "corp", "--user", "ann", "--attribute",
                 "telephoneNumber", "--json", stdout=out)
    passed = json.loads(out.getvalue())
    with pytest.raises(SystemExit) as failed:
        call_command("directory", "test-write", "corp", "--user", "ann", "--attribute", "title",
                     stdout=StringIO())

    assert passed["ok"] is True and len(passed["steps"]) == 5
    assert set(passed["steps"][0]) == {"name", "ok", "detail"}
    assert failed.value.code == 1


# -- conditional writes -------------------------------------------------------

@pytest.mark.parametrize("method", ["assertion", "value-delta", "entry-assertion",
                                    "compare-then-write"])
def test_write_happens_only_while_the_directory_holds_what_was_seen(acl_server, acl_directory,
                                                                    method):
    """A value changed in the directory after the person saw it is not overwritten; the
    conflict carries the directory's current value."""
    with connected(acl_directory.connection_settings()) as conn:
        write_attribute(conn, ANN_DN, "telephoneNumber", [b"+49 30 2222"], [b"+49 30 1111"],
                        method=method)
        acl_server.modify(ANN_DN, {"telephoneNumber": ["+49 30 9999"]})
        with pytest.raises(WriteConflict) as conflict:
            write_attribute(conn, ANN_DN, "telephoneNumber", [b"+49 30 3333"], [b"+49 30 2222"],
                            method=method)
        assert conflict.value.current == [b"+49 30 9999"]
        assert read_values(conn, ANN_DN, "telephoneNumber") == [b"+49 30 9999"]


def test_emptied_value_deletes_the_attribute_and_absence_can_be_asserted(acl_server,
                                                                         acl_directory):
    """Emptying a field deletes the attribute; writing to an absent attribute asserts absence."""
    with connected(acl_directory.connection_settings()) as conn:
        write_attribute(conn, ANN_DN, "telephoneNumber", [], [b"+49 30 1111"], method="value-delta")
        assert read_values(conn, ANN_DN, "telephoneNumber") == []
        write_attribute(conn, ANN_DN, "mobile", [b"+49 170 1"], [], method="assertion")
        assert read_values(conn, ANN_DN, "mobile") == [b"+49 170 1"]
        with pytest.raises(WriteConflict):
            write_attribute(conn, ANN_DN, "mobile", [b"+49 170 2"], [], method="assertion")


def test_refused_write_names_the_cause(acl_server, acl_directory):
    """A write the ACL forbids raises a permanent refusal saying insufficient access."""
    with connected(acl_directory.connection_settings()) as conn:
        with pytest.raises(WriteRefused) as refused:
            write_attribute(conn, ANN_DN, "title", [b"Boss"], [b"Engineer"], method="assertion")
    assert "insufficient access" in str(refused.value)


def test_panel_page_keeps_its_inputs_and_shows_each_step(acl_server, acl_directory, client):
    """A System Administrator runs the panel in the browser's page; the inputs stay filled for
    the next attribute, and each check is listed with its detail."""
    admin = get_user_model().objects.create_superuser("root-admin", password="pw-not-secret-9")
    client.force_login(admin)

    page = client.post("/admin/data-sources/test-write", {
        "directory": acl_directory.pk, "username": "ann", "attribute": "title"}).content.decode()

    assert "insufficient access" in page
    assert 'value="ann"' in page and 'value="title"' in page
    assert page.count("✓") == 4 and page.count("✗") == 1


def test_save_and_test_switches_write_back_on_and_opens_the_panel(acl_directory, client):
    """"Save and test connection" stores the global switch and opens the panel."""
    from profilesync.sync.models import DataSourceSettings

    admin = get_user_model().objects.create_superuser("root-admin", password="pw-not-secret-9")
    client.force_login(admin)
    response = client.post("/admin/data-sources/", {
        "writeback_enabled": "on", "last_ldap_sync_date": "",
        f"pattern_{acl_directory.pk}": "yyyyMMddHHmmssZ", "save_and_test": ""})

    assert response.status_code == 302 and response["Location"].endswith("/test-write")
    assert DataSourceSettings.load().writeback_enabled


def test_global_write_back_switch_from_the_command_line():
    """`settings set writeback_enabled true|false` is the global switch; anything else exits 2."""
    from django.core.management.base import CommandError

    from profilesync.sync.datasources import get_setting

    call_command("settings", "set", "writeback_enabled", "true", stdout=StringIO())
    assert get_setting("writeback_enabled") == "on"
    call_command("settings", "set", "writeback_enabled", "false", stdout=StringIO())
    assert get_setting("writeback_enabled") == "off"
    with pytest.raises(CommandError) as refused:
        call_command("settings", "set", "writeback_enabled", "maybe", stdout=StringIO())
    assert refused.value.returncode == 2 and "on or off" in str(refused.value)
