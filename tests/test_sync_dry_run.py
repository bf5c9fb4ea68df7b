"""Dry runs against a real slapd: nothing in the database changes (compared row for row), and
the following real run does exactly what the dry run said (same people, fields, actions)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command

from profilesync.profiles.models import Profile
from profilesync.sync.datasources import set_setting
from profilesync.sync.dry_run import preview
from profilesync.sync.models import DirectorySyncState, PersonChange, RunStatus, SyncMode
from profilesync.sync.progress import read_progress
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db


def snapshot() -> dict[str, list[dict]]:
    """Every row of every table the project's models own, in key order."""
    return {model._meta.label: [dict(row) for row in model.objects.order_by("pk").values()]
            for model in apps.get_models()}


def predicted(result) -> list[tuple]:
    return sorted((c["directory"], c["username"], c["action"], json.dumps(c["fields"],
                                                                          sort_keys=True))
                  for c in result.changes)


def done(report) -> list[tuple]:
    return sorted((c.directory_name, c.username, c.action, json.dumps(c.fields, sort_keys=True))
                  for c in PersonChange.objects.filter(run=report.run))


def counts(results) -> list[tuple]:
    return [(r.directory_name, r.status, r.created, r.updated, r.unchanged, r.deactivated,
             r.failed) for r in results]


def dry_then_real(directories, *, mode=None, force=False):
    """Dry run, check nothing changed, then the real run; return both."""
    before = snapshot()
    dry = preview(directories, mode=mode)
    assert snapshot() == before, "a dry run wrote to the database"
    real = run_sync(directories, mode=mode, force=force)
    return dry, real


def test_dry_run_of_a_first_import_writes_nothing_and_predicts_the_import(
        subtree, make_directory):
    subtree.add_person("ann", title="Engineer", jpegPhoto=b"\xff\xd8\xff\xe0not-really-a-jpeg")
    subtree.add_people(12)
    directory = make_directory(subtree)

    dry, real = dry_then_real([directory])

    assert len(dry.changes) == 13 and {c["action"] for c in dry.changes} == {"create"}
    assert predicted(dry) == done(real)
    assert counts(dry.report.results) == counts(real.results)
    assert dry.guards["corp"] == {"tripped": False, "share": 0.0,
                                  "limit": directory.max_deactivate_share, "count": 0,
                                  "message": ""}


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
def test_dry_run_of_a_resync_with_changes_renames_and_deletions(
        subtree, make_directory, incremental):
    """Incremental: changes by modifyTimestamp, deletions by syncrepl: the dry run's refresh
    must not use up the deletions the real run then needs (its cookie is not stored)."""
    people = {uid: subtree.add_person(uid, title="Engineer") for uid in ("ann", "ben", "cid")}
    subtree.add_people(10)
    directory = make_directory(subtree)
    if incremental:
        set_setting("incremental_sync", "on")
    run_sync([directory])
    if incremental:  # the second run stores a syncrepl cookie: deletions come as deletions
        run_sync([directory])
        assert DirectorySyncState.objects.get(directory=directory).syncrepl_cookie
    subtree.modify(people["ann"], title="Team Lead", telephoneNumber="+49 30 1")
    subtree.rename(people["ben"], "uid=benjamin")
    subtree.delete(people["cid"])
    subtree.add_person("dora", title="Intern")

    dry, real = dry_then_real([directory])

    assert {(c["username"], c["action"]) for c in dry.changes} == {
        ("ann", "update"), ("benjamin", "update"), ("cid", "deactivate"), ("dora", "create")}
    assert predicted(dry) == done(real)
    assert counts(dry.report.results) == counts(real.results)
    assert real.results[0].mode == (SyncMode.INCREMENTAL if incremental else SyncMode.FULL)
    if incremental:
        assert real.results[0].deletions_source == "syncrepl (RFC 4533)"
    assert not Profile.objects.get(username="cid").active


def test_dry_run_of_a_run_that_trips_the_guard_says_so_and_shows_who_would_go(
        subtree, make_directory):
    people = subtree.add_people(10)
    directory = make_directory(subtree, max_deactivate_percent=20, deactivation_floor=0)
    run_sync([directory], mode="full")
    for dn in people[:4]:
        subtree.delete(dn)

    cache.clear()  # run numbers of earlier tests' runs come again on SQLite
    before = snapshot()
    dry = preview([directory], mode="full")
    assert snapshot() == before
    assert read_progress(dry.report.run.pk) == {}, "a dry run publishes no progress"

    assert dry.guards["corp"]["tripped"] is True
    assert (dry.guards["corp"]["share"], dry.guards["corp"]["limit"]) == (0.4, 0.2)
    assert sorted(c["username"] for c in dry.changes) == ["user000", "user001", "user002",
                                                          "user003"]
    # The real run without force stops, as the dry run said; with force it does what was shown.
    stopped = run_sync([directory], mode="full")
    assert stopped.results[0].status == RunStatus.FAILED
    assert snapshot()["profiles.Profile"] == before["profiles.Profile"]
    forced = run_sync([directory], mode="full", force=True)
    assert predicted(dry) == done(forced)
    assert dry.report.results[0].deactivated == forced.results[0].deactivated == 4


def test_dry_run_of_a_directory_that_cannot_be_reached_reports_the_failure(make_directory):
    directory = make_directory(None, name="gone", urls=["ldap://127.0.0.1:1"])
    before = snapshot()

    dry = preview([directory])

    assert snapshot() == before
    assert dry.report.failed == ["gone"] and dry.changes == []


def test_cli_dry_run_prints_the_run_object_and_writes_the_changes_file(
        subtree, make_directory, tmp_path, capsys):
    people = subtree.add_people(6)
    directory = make_directory(subtree, max_deactivate_percent=10, deactivation_floor=0)
    run_sync([directory], mode="full")
    subtree.modify(people[0], title="Lead")
    subtree.delete(people[1])
    target = tmp_path / "changes.jsonl"
    before = snapshot()

    out = StringIO()
    with pytest.raises(SystemExit) as exited:  # not ok: the guard would stop the real run
        call_command("sync", "--dry-run", "--full", "--directory", "corp", "--json",
                     "--changes", str(target), stdout=out)

    assert snapshot() == before
    assert exited.value.code == 1
    summary = json.loads(out.getvalue())
    assert (summary["dry_run"], summary["run"]) == (True, None)
    part = summary["directories"]["corp"]
    assert (part["updated"], part["deactivated"], part["unchanged"]) == (1, 1, 4)
    assert part["guard"] == {"tripped": True, "share": round(1 / 6, 4), "limit": 0.1}
    lines = sorted((json.loads(x) for x in target.read_text().splitlines()),
                   key=lambda c: c["username"])
    assert lines == [
        {"directory": "corp", "username": "user000", "action": "update",
         "fields": {"title": {"old": "Engineer", "new": "Lead"}}},
        {"directory": "corp", "username": "user001", "action": "deactivate",
         "fields": {"active": {"old": True, "new": False}}},
    ]


def test_cli_dry_run_refuses_force_and_background(make_directory):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--dry-run"):
        call_command("sync", "--dry-run", "--force", stdout=StringIO())
    with pytest.raises(CommandError, match="--changes FILE goes with --dry-run"):
        call_command("sync", "--changes", "x.jsonl", stdout=StringIO())
