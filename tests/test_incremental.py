"""Incremental sync against a real slapd: only changes are read, and none is ever missed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from profilesync.directories.services import update_directory
from profilesync.errors import InvalidSetting
from profilesync.profiles.models import Profile
from profilesync.profiles.services import create_field, update_field
from profilesync.sync import clock, passes
from profilesync.sync.datasources import get_setting, set_setting
from profilesync.sync.models import DataSourceSettings, DirectorySyncState, RunStatus, SyncMode
from profilesync.sync.runner import run_sync
from profilesync.testing.ldif import PEOPLE_OU, person_ldif
from profilesync.testing.slapd import SlapdServer

pytestmark = pytest.mark.django_db


def turn_on_incremental() -> None:
    set_setting("incremental_sync", "on")


def only_result(report):
    (result,) = report.results
    return result


@dataclass
class Synced:
    """A directory of three people last modified an hour ago, fully synced once, with
    incremental sync on. The people are old, so a run reads only what a test changes."""

    directory: object
    people: dict[str, str]  # uid -> DN
    server: SlapdServer


def directory_on(server: SlapdServer, make_directory, **options):
    return make_directory(None, urls=[server.ldap_uri], bind_dn=server.root_dn,
                          bind_password=server.root_pw, base_dn=server.suffix, **options)


@pytest.fixture
def synced(tmp_path, make_directory) -> Iterator[Synced]:
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    server = SlapdServer(run_dir=tmp_path / "slapd")
    server.load(PEOPLE_OU + "".join(person_ldif(uid, an_hour_ago) for uid in ("ann", "ben", "cid")))
    with server:
        directory = directory_on(server, make_directory)
        assert only_result(run_sync([directory])).status == RunStatus.SUCCEEDED
        turn_on_incremental()
        people = {uid: f"uid={uid},ou=people,dc=example,dc=org" for uid in ("ann", "ben", "cid")}
        yield Synced(directory, people, server)


def test_incremental_run_reads_only_the_changed_person(synced, profiles):
    """After a change to one person, the next run reads that person and nobody else."""
    directory, people, server = synced.directory, synced.people, synced.server
    server.modify(people["ben"], {"title": ["Team Lead"]})

    result = only_result(run_sync([directory]))

    assert result.mode == SyncMode.INCREMENTAL
    assert "modifyTimestamp>=" in result.filter_sent
    assert (result.updated, result.created, result.unchanged) == (1, 0, 0)
    assert profiles(directory)["ben"].values["title"] == "Team Lead"


def test_new_person_is_created_by_an_incremental_run(synced, profiles):
    """Someone added to the directory after the last run appears after the next one."""
    directory, server = synced.directory, synced.server
    server.add("uid=dee,ou=people,dc=example,dc=org",
               {"objectClass": ["inetOrgPerson"], "uid": ["dee"], "cn": ["Dee"], "sn": ["D"],
                "title": ["Designer"]})

    result = only_result(run_sync([directory]))

    assert (result.mode, result.created) == (SyncMode.INCREMENTAL, 1)
    assert profiles(directory)["dee"].values["title"] == "Designer"


def test_change_made_during_a_run_is_picked_up_by_the_next_run(subtree, make_directory,
                                                               monkeypatch, profiles):
    """A person edited in the directory while a run reads pages is updated by the next run."""
    people = [subtree.add_person(f"p{i}", title="Engineer") for i in range(4)]
    directory = make_directory(subtree, page_size=1)
    turn_on_incremental()
    real_plan_page = passes.plan_page
    pages_seen = []

    def plan_page_and_edit(page, *args, **kwargs):
        pages_seen.append(page[0][0])
        if len(pages_seen) == 3:  # the first person's page was read already
            subtree.modify(people[0], title="Changed mid-run")
        return real_plan_page(page, *args, **kwargs)

    monkeypatch.setattr(passes, "plan_page", plan_page_and_edit)
    first = only_result(run_sync([directory]))
    monkeypatch.setattr(passes, "plan_page", real_plan_page)
    assert first.created == 4
    assert profiles(directory)["p0"].values["title"] == "Engineer"

    second = only_result(run_sync([directory]))

    assert second.mode == SyncMode.INCREMENTAL
    assert profiles(directory)["p0"].values["title"] == "Changed mid-run"


@pytest.fixture(params=["contextCSN", "no contextCSN"])
def any_openldap(request, tmp_path) -> Iterator[SlapdServer]:
    """A server with syncprov (it publishes contextCSN) and one without (a plain directory)."""
    with SlapdServer(syncprov=request.param == "contextCSN", run_dir=tmp_path / "slapd") as server:
        server.add("ou=people,dc=example,dc=org",
                   {"objectClass": ["organizationalUnit"], "ou": ["people"]})
        yield server


@pytest.mark.parametrize("skew_minutes", [10, -10])
def test_clock_skew_between_us_and_the_directory_loses_no_change(
        any_openldap, make_directory, directory_options, monkeypatch, profiles, skew_minutes):
    """With this server's clock 10 minutes ahead of or behind the directory's, every change is
    still imported by the next incremental run."""
    server = any_openldap
    monkeypatch.setattr(clock, "application_now",
                        lambda: timezone.now() + dt.timedelta(minutes=skew_minutes))
    dn = "uid=eve,ou=people,dc=example,dc=org"
    server.add(dn, {"objectClass": ["inetOrgPerson"], "uid": ["eve"], "cn": ["Eve"],
                    "sn": ["E"], "title": ["Engineer"]})
    directory = directory_on(server, make_directory)
    turn_on_incremental()
    assert only_result(run_sync([directory])).created == 1

    server.modify(dn, {"title": ["Director"]})
    result = only_result(run_sync([directory]))

    assert result.mode == SyncMode.INCREMENTAL
    assert profiles(directory)["eve"].values["title"] == "Director"


def test_entered_last_sync_date_reads_everyone_changed_since_then(tmp_path, make_directory,
                                                                   settings, profiles):
    """Entering "Last LDAP sync date" (in the server's time zone) makes the next run of a
    directory that synced before read exactly the people changed at or after that moment,
    whatever their directory time zone."""
    settings.TIME_ZONE = "Europe/Berlin"
    boundary = dt.datetime(2026, 5, 23, 13, 0, 0, tzinfo=dt.UTC)  # 15:00 in Berlin (CEST)
    server = SlapdServer(run_dir=tmp_path / "slapd")
    server.load(PEOPLE_OU
                + person_ldif("before", boundary - dt.timedelta(seconds=1))
                + person_ldif("at", boundary)
                + person_ldif("after", boundary + dt.timedelta(hours=3)))
    with server, timezone.override("Europe/Berlin"):
        directory = directory_on(server, make_directory)
        run_sync([directory])  # its first import, in full
        turn_on_incremental()
        set_setting("last_ldap_sync_date", "23-05-2026 15:00:00")

        result = only_result(run_sync([directory]))

    assert result.mode == SyncMode.INCREMENTAL
    assert "(modifyTimestamp>=20260523130000+0000)" in result.filter_sent
    assert result.unchanged == 2  # "at" and "after" were read again, "before" was not


def test_successful_run_advances_the_last_sync_date(synced):
    """After every successful run the shown "Last LDAP sync date" moves forward."""
    directory = synced.directory
    set_setting("last_ldap_sync_date", "01-01-2020 00:00:00")

    run_sync([directory])

    state = DirectorySyncState.objects.get(directory=directory)
    assert state.watermark > dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    shown = get_setting("last_ldap_sync_date")
    assert shown and not shown.startswith("01-01-2020")
    assert DataSourceSettings.load().last_ldap_sync_date == state.watermark


def test_failed_run_advances_nothing_for_that_directory(synced, profiles):
    """When a directory cannot be reached, its watermark and the shown date stay as they were,
    so the changes it missed are read by the next run that succeeds."""
    directory, people, server = synced.directory, synced.people, synced.server
    before = DirectorySyncState.objects.get(directory=directory).watermark
    shown_before = get_setting("last_ldap_sync_date")
    server.modify(people["ann"], {"title": ["Missed while down"]})
    good_urls = directory.urls
    directory.urls = ["ldap://127.0.0.1:9"]
    directory.save()

    failed = only_result(run_sync([directory]))

    assert failed.status == RunStatus.FAILED
    assert DirectorySyncState.objects.get(directory=directory).watermark == before
    assert get_setting("last_ldap_sync_date") == shown_before
    directory.urls = good_urls
    directory.save()
    assert only_result(run_sync([directory])).updated == 1
    assert profiles(directory)["ann"].values["title"] == "Missed while down"


def test_new_field_is_filled_for_everyone_while_the_rest_stays_incremental(synced, profiles):
    """A field added after incremental sync was turned on gets its values for every person at
    the next run, without anyone clearing the last sync date."""
    directory, people, server = synced.directory, synced.people, synced.server
    for uid, dn in people.items():
        server.modify(dn, {"roomNumber": [f"R-{uid}"]})
    set_setting("last_ldap_sync_date", "")  # nobody changed since: pretend a fresh watermark
    run_sync([directory])
    create_field("room", {"label": "Room", "type": "text", "ldap_attribute": "roomNumber"})

    result = only_result(run_sync([directory]))

    assert result.mode == SyncMode.INCREMENTAL
    assert result.fields_filled == ["room"]
    assert {u: p.values.get("room") for u, p in profiles(directory).items()} == {
        "ann": "R-ann", "ben": "R-ben", "cid": "R-cid"}


def test_remapped_field_is_refetched_for_everyone(synced, profiles):
    """Pointing a field at another LDAP attribute refills it for every person at the next run."""
    directory, people, server = synced.directory, synced.people, synced.server
    for uid, dn in people.items():
        server.modify(dn, {"employeeType": [f"type-{uid}"]})
    set_setting("last_ldap_sync_date", "")
    run_sync([directory])
    from profilesync.profiles.models import ProfileField

    update_field(ProfileField.objects.get(key="title"), {"ldap_attribute": "employeeType"})

    result = only_result(run_sync([directory]))

    assert result.fields_filled == ["title"]
    assert profiles(directory)["cid"].values["title"] == "type-cid"


def test_unknown_pattern_is_reported_and_never_imports_nothing_silently(synced, profiles):
    """With AD's pattern on OpenLDAP, the run fails and says the pattern is not understood
    instead of reporting "no changes"; nothing moves until the pattern is fixed."""
    directory, people, server = synced.directory, synced.people, synced.server
    from profilesync.directories.services import update_directory

    update_directory(directory, {"timestamp_pattern": "yyyyMMddHHmmss.Z"})
    set_setting("last_ldap_sync_date", "01-01-2020 00:00:00")
    server.modify(people["cid"], {"title": ["Changed"]})

    result = only_result(run_sync([directory]))

    assert result.status == RunStatus.FAILED
    assert "yyyyMMddHHmmss.Z" in result.errors[0]["message"]
    assert "20200101000000.+0000" in result.errors[0]["message"]
    state = DirectorySyncState.objects.get(directory=directory)
    assert state.watermark == dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    update_directory(directory, {"timestamp_pattern": "yyyyMMddHHmmssZ"})
    assert only_result(run_sync([directory])).updated == 1
    assert profiles(directory)["cid"].values["title"] == "Changed"


def test_check_pattern_tells_understood_from_ignored(synced):
    """"Check pattern" asks the directory: OpenLDAP understands yyyyMMddHHmmssZ and silently
    ignores yyyyMMddHHmmss.Z."""
    from profilesync.directories.services import update_directory
    from profilesync.sync.pattern_check import check_pattern

    directory = synced.directory
    good = check_pattern(directory)
    update_directory(directory, {"timestamp_pattern": "yyyyMMddHHmmss.Z"})
    bad = check_pattern(directory)

    assert (good.understood, bad.understood) == (True, False)
    assert bad.matches == 0 and bad.canonical_matches > 0
    assert "not understood" in bad.message


def test_reconciliation_deactivates_deleted_and_filtered_out_people(synced, profiles):
    """People deleted from the directory, or no longer matching the user filter, are found by
    the reconciliation and deactivated; their profiles stay."""
    directory, people, server = synced.directory, synced.people, synced.server
    server.delete(people["ann"])
    server.modify(people["ben"], {"objectClass": ["inetOrgPerson", "simpleSecurityObject"],
                                  "userPassword": ["x"]})
    from profilesync.directories.services import update_directory

    update_directory(directory, {"user_filter": "(&(objectClass=inetOrgPerson)"
                                                "(!(objectClass=simpleSecurityObject)))",
                                 "max_deactivate_percent": 100})

    result = only_result(run_sync([directory], mode=SyncMode.RECONCILIATION))

    assert (result.status, result.deactivated) == (RunStatus.SUCCEEDED, 2)
    state = {u: p.active for u, p in profiles(directory).items()}
    assert state == {"ann": False, "ben": False, "cid": True}
    assert Profile.objects.filter(directory=directory).count() == 3


def test_reconciliation_stops_before_deactivating_too_many(synced, profiles):
    """A reconciliation that would deactivate more than the limit deactivates nobody."""
    directory, people, server = synced.directory, synced.people, synced.server
    update_directory(directory, {"deactivation_floor": 0})  # three people: no floor here
    server.delete(people["ann"])
    server.delete(people["ben"])

    result = only_result(run_sync([directory], mode=SyncMode.RECONCILIATION))

    assert result.status == RunStatus.FAILED
    assert "stopped before deactivating anyone" in result.errors[0]["message"]
    assert all(p.active for p in profiles(directory).values())


def test_last_sync_date_in_another_format_is_refused_and_nothing_saved(db):
    """A date not in dd-MM-yyyy HH:mm:ss is refused with the format and an example."""
    set_setting("last_ldap_sync_date", "23-05-2016 15:00:00")
    with pytest.raises(InvalidSetting) as refused:
        set_setting("last_ldap_sync_date", "2016-05-23 15:00")
    assert "dd-MM-yyyy HH:mm:ss" in str(refused.value)
    assert "23-05-2016 15:00:00" in str(refused.value)
    assert get_setting("last_ldap_sync_date") == "23-05-2016 15:00:00"


def _cli(*argv: str) -> tuple[int, str, str]:
    """`profilesync ARGV` through Django's call_command: (exit code, output, error)."""
    out = StringIO()
    try:
        call_command(*argv, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), str(exc)
    except SystemExit as exc:
        return exc.code, out.getvalue(), ""
    return 0, out.getvalue(), ""


def test_cli_refuses_bad_values_with_exit_code_2(synced):
    """`settings set` and `directory set --timestamp-pattern` refuse bad values with code 2
    and a message naming the setting; nothing is saved."""
    directory = synced.directory
    date_code, _, date_err = _cli("settings", "set", "last_ldap_sync_date", "yesterday")
    pattern_code, _, pattern_err = _cli("directory", "set", directory.name,
                                        "--timestamp-pattern", "yyyyMMdd")

    assert date_code == 2 and "dd-MM-yyyy HH:mm:ss" in date_err
    assert pattern_code == 2 and "--timestamp-pattern" in pattern_err and "hour" in pattern_err
    directory.refresh_from_db()
    assert directory.timestamp_pattern == "yyyyMMddHHmmssZ"


def test_cli_settings_round_trip_and_preview(synced):
    """An administrator enters a date, and `directory show` previews the exact filter the next
    run will send; `check-pattern --json` says the pattern is understood."""
    directory = synced.directory
    assert _cli("settings", "set", "incremental_sync", "on")[0] == 0
    assert _cli("settings", "set", "last_ldap_sync_date", "23-05-2016 15:00:00")[0] == 0
    shown = _cli("settings", "get", "last_ldap_sync_date")[1]
    preview = _cli("directory", "show", directory.name)[1]
    check_code, check_out, _ = _cli("directory", "check-pattern", directory.name, "--json")

    assert shown.strip() == "23-05-2016 15:00:00"
    assert "(modifyTimestamp>=20160523150000+0000)" in preview
    assert "incremental" in preview
    assert check_code == 0 and json.loads(check_out)["understood"] is True
