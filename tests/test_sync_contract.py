"""The seed's contract for "Last LDAP sync date", failures that stay in their directory,
and a deactivation guard that counts everything and remembers 24 hours."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from profilesync.directories.services import update_directory
from profilesync.profiles.models import Profile
from profilesync.sync import passes
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import DataSourceSettings, DirectorySyncState, RunStatus, SyncMode
from profilesync.sync.pattern_check import preview_next_run
from profilesync.sync.runner import run_sync
from profilesync.testing.ldif import PEOPLE_OU, person_ldif
from profilesync.testing.slapd import SlapdServer

pytestmark = pytest.mark.django_db

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def dn(uid: str) -> str:
    return f"uid={uid},ou=people,dc=example,dc=org"


def results_by_name(report) -> dict:
    return {r.directory_name: r for r in report.results}


@pytest.fixture
def server_of(tmp_path, slapd_server):  # slapd_server: fails under CI when slapd is missing
    """``server_of(uids)``: a private slapd with these people, last modified in 2020."""
    started = []

    def start(uids) -> SlapdServer:
        server = SlapdServer(run_dir=tmp_path / f"slapd{len(started)}")
        server.load(PEOPLE_OU + "".join(person_ldif(uid, LONG_AGO) for uid in uids))
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.cleanup()


@pytest.fixture
def directory_on(make_directory):
    def make(server: SlapdServer, name: str = "corp", **options):
        return make_directory(None, name=name, urls=[server.ldap_uri], bind_dn=server.root_dn,
                              bind_password=server.root_pw, base_dn=server.suffix, **options)
    return make


# -- (3) an empty "Last LDAP sync date" -------------------------------------------

def test_empty_last_sync_date_makes_the_next_run_full_with_a_deactivation_sweep(
        server_of, directory_on, profiles):
    """Clearing the date: the next run is full (the run and the directory's part say so, and
    why), reads everyone, and deactivates whoever is gone; the run after is incremental."""
    server = server_of(["ann", "ben", "cid", "dan"])
    directory = directory_on(server)
    run_sync([directory])
    set_setting("incremental_sync", "on")
    server.delete(dn("ann"))
    set_setting("last_ldap_sync_date", "")

    report = run_sync()

    (result,) = report.results
    assert (report.run.mode, result.mode, report.as_json()["mode"]) == (SyncMode.FULL,) * 3
    assert "Last LDAP sync date is empty" in result.mode_reason
    assert (result.status, result.unchanged, result.deactivated) == (RunStatus.SUCCEEDED, 3, 1)
    assert not profiles(directory)["ann"].active
    again = run_sync().results[0]
    assert (again.mode, again.mode_reason) == (SyncMode.INCREMENTAL, "")


def test_empty_date_shown_with_watermarks_left_still_means_full(server_of, directory_on):
    """Whatever emptied the shown date, an empty date means the next run is full."""
    directory = directory_on(server_of(["ann"]))
    run_sync([directory])
    set_setting("incremental_sync", "on")
    DataSourceSettings.objects.filter(pk=1).update(last_ldap_sync_date=None)

    result = run_sync([directory]).results[0]

    assert result.mode == SyncMode.FULL and "Last LDAP sync date is empty" in result.mode_reason


# -- (4) a date entered never skips a new directory's first import ---------------

@pytest.mark.django_db(transaction=True)
def test_entered_date_never_gives_a_new_directory_a_watermark(server_of, directory_on, profiles,
                                                               cli):
    """A date entered while a directory has never synced: that directory's next run is still
    its first import, in full, and imports the people modified before the date."""
    old = directory_on(server_of(["ann"]), name="old")
    run_sync([old])
    set_setting("incremental_sync", "on")
    new = directory_on(server_of(["zoe", "yan"]), name="new")  # modified in 2020
    set_setting("last_ldap_sync_date", "01-06-2026 00:00:00")

    assert DirectorySyncState.for_directory(new).watermark is None
    assert preview_next_run(new)[0] == SyncMode.FULL
    code, out, _ = cli("directory", "show", "new", "--json")
    shown = json.loads(out)
    assert (shown["next_run_mode"], shown["next_run_reason"]) == (SyncMode.FULL,
                                                                  "first import: full")
    results = results_by_name(run_sync())

    assert (results["old"].mode, results["new"].mode) == (SyncMode.INCREMENTAL, SyncMode.FULL)
    assert results["new"].mode_reason == "first import: full"
    assert set(profiles(new)) == {"zoe", "yan"}


def test_a_directory_that_never_synced_does_not_empty_the_shown_date(server_of, directory_on,
                                                                     make_directory):
    """A directory whose first import keeps failing does not empty the date, so the others
    stay incremental instead of being read in full every run."""
    good = directory_on(server_of(["ann"]), name="good")
    make_directory(None, name="down", urls=["ldap://127.0.0.1:9"])
    set_setting("incremental_sync", "on")
    run_sync()

    assert DataSourceSettings.load().last_ldap_sync_date is not None
    results = results_by_name(run_sync())
    assert results["good"].mode == SyncMode.INCREMENTAL
    assert results["down"].mode == SyncMode.FULL and results["down"].status == RunStatus.FAILED
    assert good.pk


# -- (8) failures stay in their directory --------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_unforeseen_error_in_one_directory_is_recorded_there_and_the_others_go_on(
        server_of, directory_on, monkeypatch, profiles, cli):
    """An error nobody typed (a bug, an answer never seen) fails that directory's part only:
    recorded there without a traceback, its writes rolled back, the next directory synced,
    and the exit status and standard error say which failed."""
    broken = directory_on(server_of(["ann", "ben"]), name="broken")
    working = directory_on(server_of(["cid"]), name="working")
    real_plan_page = passes.plan_page

    def plan_page(page, directory, *args, **kwargs):
        planned = real_plan_page(page, directory, *args, **kwargs)
        if directory.name == "broken":
            raise KeyError("entryuuid")
        return planned

    monkeypatch.setattr(passes, "plan_page", plan_page)

    code, out, err = cli("sync", "--json")

    assert code == 1
    assert "sync failed for: broken" in err
    report = json.loads(out)
    assert report["failed"] == ["broken"]
    assert report["directories"]["working"]["status"] == RunStatus.SUCCEEDED
    assert "unexpected error KeyError" in report["directories"]["broken"]["errors"][0]["message"]
    assert not Profile.objects.filter(directory=broken).exists()
    assert set(profiles(working)) == {"cid"}


def test_a_server_lost_in_the_middle_fails_only_that_directory(server_of, directory_on,
                                                               monkeypatch):
    """The server of the first directory goes away while its pages are read: that part fails
    with the typed "stopped answering" error, the second directory is synced."""
    first_server = server_of([f"p{i}" for i in range(5)])
    first = directory_on(first_server, name="first", page_size=2)
    second = directory_on(server_of(["cid"]), name="second")
    real_plan_page = passes.plan_page

    def plan_page(page, directory, *args, **kwargs):
        if directory.name == "first":
            first_server.stop()
        return real_plan_page(page, directory, *args, **kwargs)

    monkeypatch.setattr(passes, "plan_page", plan_page)
    report = run_sync()

    results = results_by_name(report)
    assert report.failed == ["first"]
    assert "stopped answering" in results["first"].errors[0]["message"]
    assert results["second"].status == RunStatus.SUCCEEDED
    assert not Profile.objects.filter(directory=first).exists()
    assert Profile.objects.filter(directory=second).count() == 1


# -- (9) a guard that counts everything and remembers -------------------------------

def test_small_directory_may_lose_up_to_the_floor(server_of, directory_on, profiles):
    """A directory of four people loses one (25 %, over the 20 % per run) without tripping:
    up to three people may always go."""
    server = server_of(["ann", "ben", "cid", "dan"])
    directory = directory_on(server)
    run_sync([directory])
    server.delete(dn("ann"))

    result = run_sync([directory], mode=SyncMode.FULL).results[0]

    assert (result.status, result.deactivated) == (RunStatus.SUCCEEDED, 1)


def test_runs_that_each_stay_under_the_limit_are_stopped_by_the_24_hour_window(
        server_of, directory_on, profiles):
    """20 people: a run deactivating 4 (20 %) passes; the next one deactivating 3 more would
    bring the last 24 hours to 7 of 20 (35 %, over 30 %): it is rolled back and the report
    lists who would have gone. --force passes it once; the guard holds again afterwards."""
    uids = [f"p{i:02d}" for i in range(20)]
    server = server_of(uids)
    directory = directory_on(server)
    set_setting("incremental_sync", "on")
    run_sync([directory])
    for uid in uids[:4]:
        server.delete(dn(uid))
    assert run_sync([directory]).results[0].deactivated == 4
    for uid in uids[4:7]:
        server.delete(dn(uid))
    server.modify(dn("p10"), {"title": ["Changed meanwhile"]})

    tripped = run_sync([directory]).results[0]

    assert tripped.status == RunStatus.FAILED
    message = tripped.errors[0]["message"]
    assert "4 were deactivated in the last 24 hours: 7 of 20" in message
    assert "30% per 24 hours" in message and tripped.errors[0]["setting"] == (
        "max_deactivate_percent_24h")
    assert tripped.would_deactivate == ["p04", "p05", "p06"]
    assert all(profiles(directory)[u].active for u in uids[4:])
    assert profiles(directory)["p10"].values["title"] == "Engineer"  # the part rolled back
    forced = run_sync([directory], force=True).results[0]
    assert (forced.status, forced.deactivated) == (RunStatus.SUCCEEDED, 3)
    server.delete(dn("p07"))
    assert run_sync([directory]).results[0].status == RunStatus.FAILED


def test_the_window_forgets_deactivations_older_than_24_hours(server_of, directory_on):
    """Deactivations of a run that finished more than 24 hours ago no longer count."""
    uids = [f"p{i:02d}" for i in range(20)]
    server = server_of(uids)
    directory = directory_on(server)
    set_setting("incremental_sync", "on")
    run_sync([directory])
    for uid in uids[:4]:
        server.delete(dn(uid))
    earlier = run_sync([directory]).results[0]
    assert earlier.deactivated == 4
    type(earlier).objects.filter(pk=earlier.pk).update(
        finished_at=timezone.now() - dt.timedelta(hours=25))
    for uid in uids[4:7]:
        server.delete(dn(uid))

    assert run_sync([directory]).results[0].status == RunStatus.SUCCEEDED


@pytest.mark.django_db(transaction=True)
def test_guard_settings_are_directory_settings(server_of, directory_on, cli):
    """The shares and the floor are set per directory, and shown."""
    directory = directory_on(server_of(["ann"]))
    code, _, _ = cli("directory", "set", "corp", "--max-deactivate-percent-24h", "45",
                     "--deactivation-floor", "0")
    assert code == 0
    code, out, _ = cli("directory", "show", "corp", "--json")
    shown = json.loads(out)
    assert (shown["max_deactivate_percent"], shown["max_deactivate_percent_24h"],
            shown["deactivation_floor"]) == (20, 45, 0)
    code, _, err = cli("directory", "set", "corp", "--deactivation-floor", "-1")
    assert code == 2 and "--deactivation-floor" in err
    update_directory(directory, {"deactivation_floor": 2})
