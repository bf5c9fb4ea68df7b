"""The `profilesync` command line: the contract scripts and later issues rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from profilesync.demo.people import make_photo
from profilesync.directories.models import Directory
from profilesync.directories.secrets import decrypt_secret
from profilesync.profiles.models import ProfileField
from profilesync.profiles.services import create_field
from profilesync.testing.slapd import free_port

BIND_PASSWORD = "S3cret-bind-Passw0rd-91f4"
REPORT_KEYS = {"created", "updated", "unchanged", "deactivated", "failed", "errors"}


def run(*argv: str) -> str:
    out = StringIO()
    call_command(*argv, stdout=out)
    return out.getvalue()


@pytest.fixture
def added(subtree, slapd_server, fresh_install, tmp_path):
    """A directory added with `directory add` and its password in a file, as an admin would."""
    password_file = tmp_path / "bind-password"
    password_file.write_text(BIND_PASSWORD + "\n")
    run("directory", "add", "corp", "--url", slapd_server.ldap_uri,
        "--bind-dn", slapd_server.root_dn, "--bind-password-file", str(password_file),
        "--base-dn", subtree.dn, "--user-dn", "ou=people")
    return Directory.objects.get(name="corp")


# -- secrets ---------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("argv", [("show", "corp"), ("show", "corp", "--json"), ("list",),
                                  ("list", "--json")])
def test_directory_show_and_list_never_print_the_password(added, argv):
    """`directory show` and `list` say a password is set, but never print it."""
    output = run("directory", *argv)
    assert BIND_PASSWORD not in output
    if argv[0] == "show":
        assert "(set)" in output


@pytest.mark.django_db
def test_bind_password_is_encrypted_in_the_database_row(added):
    """The directory's database row holds the bind password only in encrypted form."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Directory._meta.db_table} WHERE name = %s", ["corp"])
        row = cursor.fetchone()
        column = [c[0] for c in cursor.description].index("bind_password_encrypted")
    assert BIND_PASSWORD not in " ".join(str(value) for value in row)
    assert decrypt_secret(row[column]) == BIND_PASSWORD


@pytest.mark.django_db
def test_password_from_the_file_is_the_one_sent(subtree, added, slapd_server, tmp_path):
    """The bind uses the file's content without its trailing newline, whatever was set before."""
    subtree.add_people(1)
    out = StringIO()
    with pytest.raises(SystemExit):  # the server does not know BIND_PASSWORD
        call_command("sync", "--json", stdout=out)
    assert "refused the bind" in out.getvalue()
    root_password_file = tmp_path / "root-password"
    root_password_file.write_text(slapd_server.root_pw + "\n")

    run("directory", "set", "corp", "--bind-password-file", str(root_password_file))

    report = json.loads(run("sync", "--json"))
    assert report["ok"] is True
    assert report["directories"]["corp"]["created"] == 1


# -- sync --------------------------------------------------------------------

@pytest.mark.django_db
def test_sync_json_reports_counts_per_directory(subtree, make_directory):
    """`sync --json` prints one object with ok, mode and each directory's counts."""
    subtree.add_people(3)
    make_directory(subtree)

    report = json.loads(run("sync", "--full", "--json"))

    assert report["ok"] is True
    assert report["mode"] == "full"
    assert REPORT_KEYS <= set(report["directories"]["corp"])
    assert report["directories"]["corp"]["created"] == 3
    assert report["directories"]["corp"]["errors"] == []


@pytest.mark.django_db
def test_sync_of_a_non_syncable_directory_exits_1_with_the_reason(subtree, make_directory):
    """Syncing an internal directory by name fails (exit 1) and says why it cannot be synced."""
    make_directory(subtree, name="local", type="internal")
    out = StringIO()

    with pytest.raises(SystemExit) as exited:
        call_command("sync", "--directory", "local", "--json", stdout=out)

    assert exited.value.code == 1
    errors = json.loads(out.getvalue())["directories"]["local"]["errors"]
    assert "internal directory" in errors[0]["message"]


@pytest.mark.django_db
def test_sync_of_all_directories_passes_over_those_that_cannot_be_synced(subtree, make_directory):
    """An internal directory kept next to an LDAP one does not make every scheduled sync fail."""
    subtree.add_people(2)
    make_directory(subtree, name="local", type="internal")
    make_directory(subtree, name="corp")

    report = json.loads(run("sync", "--json"))  # exit 1 would raise SystemExit here

    assert report["ok"] is True
    assert set(report["directories"]) == {"corp"}
    assert report["directories"]["corp"]["created"] == 2


@pytest.mark.django_db
def test_unsyncable_directory_is_accepted_with_a_note(fresh_install):
    """Adding a Crowd directory works without a URL and says that it will not be synced."""
    output = run("directory", "add", "crowd", "--type", "crowd")

    assert "will not be synced" in output
    assert Directory.objects.get(name="crowd").sync_refusal()


# -- export ------------------------------------------------------------------

@pytest.mark.django_db
def test_profiles_export_prints_one_json_object_per_profile(subtree, make_directory,
                                                            sync_directory):
    """`profiles export` prints a JSON line per person, multi-select values as lists."""
    create_field("skills", {"label": "Skills", "type": "multiselect",
                            "ldap_attribute": "businessCategory"})
    subtree.add_person("alice", jpegPhoto=make_photo(1), businessCategory=["Go", "Rust"],
                       displayName="Älice Ärcher")
    subtree.add_person("bob")
    carol_dn = subtree.add_person("carol")
    directory = make_directory(subtree)
    sync_directory(directory)
    subtree.delete(carol_dn)
    sync_directory(directory, force=True)

    lines = run("profiles", "export").splitlines()

    rows = {row["username"]: row for row in map(json.loads, lines)}
    assert len(lines) == 3
    for row in rows.values():
        assert set(row) == {"username", "directory", "active", "dn", "fields", "has_picture",
                            "manager"}
        assert row["directory"] == "corp"
    assert rows["alice"]["fields"]["skills"] == ["Go", "Rust"]
    assert rows["alice"]["fields"]["display_name"] == "Älice Ärcher"
    assert rows["alice"]["has_picture"] is True
    assert rows["bob"]["has_picture"] is False
    assert rows["alice"]["dn"] == f"uid=alice,{subtree.people_dn}"
    assert (rows["bob"]["active"], rows["carol"]["active"]) == (True, False)


# -- the real command line: exit codes ------------------------------------------

ARGUMENT_ERRORS = [
    (["directory", "add", "x", "--url", "http://ldap.example.org", "--base-dn", "dc=example,dc=org"],
     "--url"),
    (["directory", "add", "x", "--url", "ldap://ldap.example.org", "--base-dn", "example.org"],
     "--base-dn"),
    (["directory", "add", "x", "--url", "ldap://ldap.example.org", "--base-dn", "dc=example,dc=org",
      "--bind-dn", "admin"], "--bind-dn"),
    (["directory", "add", "x", "--url", "ldap://ldap.example.org", "--base-dn", "dc=example,dc=org",
      "--user-filter", "objectClass=person"], "--user-filter"),
    (["directory", "add", "x", "--url", "ldap://ldap.example.org", "--base-dn", "dc=example,dc=org",
      "--bind-password-file", "/nonexistent/password"], "--bind-password-file"),
    (["directory", "add", "x", "--url", "ldap://ldap.example.org", "--vendor", "novell"], "--vendor"),
    (["field", "add", "birthday", "--label", "Birthday", "--type", "date", "--write-back"],
     "--write-back"),
    (["field", "add", "office", "--label", "Office", "--ldap-attribute", "room number"],
     "--ldap-attribute"),
    (["field", "set", "title", "--directory", "nowhere", "--ldap-attribute", "title"],
     "--directory"),
    (["field", "set", "title", "--directory", "nowhere"], "--directory"),
    (["sync", "--directory", "nowhere"], "--directory"),
]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("argv", "option"), ARGUMENT_ERRORS,
                         ids=[" ".join(a) for a, _ in ARGUMENT_ERRORS])
def test_argument_errors_exit_2_naming_the_option(cli, fresh_install, argv, option):
    """A mistyped option exits with code 2 and a message naming that option, and saves nothing."""
    fields_before = list(ProfileField.objects.values_list("key", "write_back", "ldap_attribute"))

    code, _out, err = cli(*argv)

    assert code == 2
    assert option in err
    assert not Directory.objects.exists()
    assert list(ProfileField.objects.values_list("key", "write_back", "ldap_attribute")) == fields_before


@pytest.mark.django_db(transaction=True)
def test_date_field_write_back_error_explains_the_fix(cli, fresh_install):
    """Refusing write-back for a date field says what to do instead."""
    _code, _out, err = cli("field", "add", "birthday", "--label", "Birthday",
                           "--type", "date", "--write-back")
    assert "keep it read-only or use a text field" in err


@pytest.mark.django_db(transaction=True)
def test_cli_sync_exits_1_when_one_of_two_directories_fails(cli, subtree, make_directory):
    """`profilesync sync --json` with one broken directory exits 1 and reports both."""
    subtree.add_people(2)
    make_directory(subtree, name="broken", urls=[f"ldap://127.0.0.1:{free_port()}"])
    make_directory(subtree, name="working")

    code, out, _err = cli("sync", "--json")

    report = json.loads(out)
    assert code == 1
    assert report["ok"] is False and report["mode"] == "full"
    assert set(report["directories"]) == {"broken", "working"}
    for counts in report["directories"].values():
        assert REPORT_KEYS <= set(counts)
    assert report["directories"]["working"]["created"] == 2
    assert report["directories"]["working"]["errors"] == []
    assert "no LDAP server answered" in report["directories"]["broken"]["errors"][0]["message"]


def _database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.django_db(transaction=True)
def test_console_script_runs_a_sync(subtree, make_directory, tmp_path):
    """The installed `profilesync` program syncs and exits 0 on success, 1 when a directory fails."""
    subtree.add_people(2)
    make_directory(subtree, name="working")
    env = {**os.environ, "PROFILESYNC_DATABASE_URL": _database_url(),
           "PROFILESYNC_SECRET_KEY": settings.SECRET_KEY,
           "PROFILESYNC_DATA_DIR": str(tmp_path), "PROFILESYNC_MEDIA_DIR": str(tmp_path / "media")}
    program = str(Path(sys.executable).with_name("profilesync"))

    first = subprocess.run([program, "sync", "--json"], env=env, capture_output=True, text=True,
                           timeout=60)
    make_directory(subtree, name="broken", urls=[f"ldap://127.0.0.1:{free_port()}"])
    second = subprocess.run([program, "sync", "--json"], env=env, capture_output=True, text=True,
                            timeout=60)

    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["directories"]["working"]["created"] == 2
    assert second.returncode == 1, second.stderr
    assert json.loads(second.stdout)["directories"]["working"]["unchanged"] == 2
