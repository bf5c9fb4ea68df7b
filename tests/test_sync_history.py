"""The change history against a real slapd: per person a run touched, what changed, and the
run's counts equal its rows per action (one person counted once per run)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from PIL import Image

from profilesync.profiles.models import Profile
from profilesync.profiles.services import create_field
from profilesync.scheduling.jobs import JOBS
from profilesync.sync import history
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import ChangeAction, PersonChange, RunStatus, SyncRun
from profilesync.sync.runner import run_sync
from profilesync.writeback.models import WriteResultKind
from profilesync.writeback.service import audit

pytestmark = pytest.mark.django_db


def jpeg(color: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (24, 24), color).save(out, "JPEG")
    return out.getvalue()


def rows_of(result) -> dict[str, PersonChange]:
    return {c.username: c for c in PersonChange.objects.filter(run=result.run,
                                                               directory_name=result.directory_name)}


def assert_counts_match_rows(result) -> None:
    mine = PersonChange.objects.filter(run=result.run, directory_name=result.directory_name)
    actions = Counter(mine.values_list("action", flat=True))
    assert result.created == actions[ChangeAction.CREATE]
    assert result.updated == actions[ChangeAction.UPDATE] + actions[ChangeAction.REACTIVATE]
    assert result.deactivated == actions[ChangeAction.DEACTIVATE]
    people = mine.values_list("unique_id", flat=True)
    assert len(people) == len(set(people)), "one person counted once per run"


def test_first_import_records_every_created_person_with_its_values(
        subtree, make_directory, sync_directory):
    photo = jpeg("red")
    subtree.add_person("ann", title="Engineer", jpegPhoto=photo)
    subtree.add_person("ben", title="Designer")
    directory = make_directory(subtree)

    result = sync_directory(directory)

    rows = rows_of(result)
    assert set(rows) == {"ann", "ben"}
    assert {r.action for r in rows.values()} == {ChangeAction.CREATE}
    ann = rows["ann"].fields
    assert ann["title"] == {"old": None, "new": "Engineer"}
    assert ann["username"] == {"old": None, "new": "ann"}
    assert ann["dn"]["new"] == f"uid=ann,{subtree.people_dn}"
    assert ann["picture"] == {"old": None, "new": hashlib.sha256(photo).hexdigest()}
    assert rows["ann"].unique_id == Profile.objects.get(username="ann").unique_id
    assert_counts_match_rows(result)


def test_unchanged_resync_records_nothing(subtree, make_directory, sync_directory):
    subtree.add_people(5)
    directory = make_directory(subtree)
    sync_directory(directory)

    again = sync_directory(directory)

    assert (again.unchanged, again.updated) == (5, 0)
    assert not PersonChange.objects.filter(run=again.run).exists()


def test_changes_renames_deletions_and_reactivation_each_say_what_changed(
        subtree, make_directory, sync_directory):
    ann = subtree.add_person("ann", title="Engineer", jpegPhoto=jpeg("red"))
    ben = subtree.add_person("ben", title="Engineer")
    cid = subtree.add_person("cid", title="Engineer")
    dan = subtree.add_person("dan", title="Engineer")
    subtree.add_people(6)  # so that one deletion stays under the guard
    away = subtree.add_ou("away")
    directory = make_directory(subtree)
    sync_directory(directory)
    dan_away = subtree.rename(dan, "uid=dan", away)  # out of the search base
    sync_directory(directory)
    new_photo = jpeg("blue")
    subtree.modify(ann, title="Team Lead", jpegPhoto=new_photo)
    subtree.rename(ben, "uid=benjamin")
    subtree.delete(cid)
    subtree.rename(dan_away, "uid=dan", subtree.people_dn)  # back: reactivated

    result = sync_directory(directory)

    rows = rows_of(result)
    assert set(rows) == {"ann", "benjamin", "cid", "dan"}
    assert rows["ann"].action == ChangeAction.UPDATE
    assert rows["ann"].fields["title"] == {"old": "Engineer", "new": "Team Lead"}
    assert rows["ann"].fields["picture"]["new"] == hashlib.sha256(new_photo).hexdigest()
    assert rows["ann"].fields["picture"]["old"] == hashlib.sha256(jpeg("red")).hexdigest()
    assert set(rows["ann"].fields) == {"title", "picture"}
    assert rows["benjamin"].action == ChangeAction.UPDATE
    assert rows["benjamin"].fields["username"] == {"old": "ben", "new": "benjamin"}
    assert rows["benjamin"].fields["dn"] == {"old": f"uid=ben,{subtree.people_dn}",
                                            "new": f"uid=benjamin,{subtree.people_dn}"}
    assert rows["cid"].action == ChangeAction.DEACTIVATE
    assert rows["cid"].fields == {"active": {"old": True, "new": False}}
    assert rows["dan"].action == ChangeAction.REACTIVATE
    assert rows["dan"].fields["active"] == {"old": False, "new": True}
    assert (result.created, result.updated, result.deactivated) == (0, 3, 1)
    assert_counts_match_rows(result)


def test_a_part_the_guard_stops_leaves_no_history(subtree, make_directory, sync_directory):
    people = subtree.add_people(10)
    directory = make_directory(subtree, max_deactivate_percent=10, deactivation_floor=0)
    sync_directory(directory)
    for dn in people[:5]:
        subtree.delete(dn)

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    assert not PersonChange.objects.filter(run=result.run).exists()


def test_own_edit_and_its_write_back_outcome_join_the_persons_history(
        subtree, make_directory, sync_directory):
    subtree.add_person("ann", title="Engineer")
    directory = make_directory(subtree)
    sync_directory(directory)
    ann = Profile.objects.get(username="ann")

    audit(ann, "ann", "title", "text", [b"Engineer"], [b"Team Lead"], WriteResultKind.REFUSED,
          message="insufficient access")

    (edit,) = history.for_person(ann).filter(action=ChangeAction.EDIT)
    assert edit.run is None
    assert edit.fields == {"title": {"old": "Engineer", "new": "Team Lead"}}
    assert (edit.actor, edit.outcome) == ("ann", "refused: insufficient access")
    assert [c.action for c in history.for_person(ann)] == [ChangeAction.EDIT,
                                                          ChangeAction.CREATE]


def report(*argv: str) -> str:
    out = io.StringIO()
    call_command("sync", "report", *argv, stdout=out)
    return out.getvalue()


def test_report_exports_a_runs_changes_as_csv_and_json_lines(
        subtree, make_directory, sync_directory, tmp_path):
    ann = subtree.add_person("ann", title="Engineer")
    subtree.add_person("ben", title="Engineer")
    directory = make_directory(subtree)
    sync_directory(directory)
    subtree.modify(ann, title="Team Lead, \"R&D\"")
    result = sync_directory(directory)

    rows = list(csv.DictReader(io.StringIO(report("--run", str(result.run_id), "--changes"))))
    assert [(r["username"], r["action"], r["field"], json.loads(r["old"]), json.loads(r["new"]))
            for r in rows] == [("ann", "update", "title", "Engineer", "Team Lead, \"R&D\"")]

    out = report("--run", str(result.run_id), "--changes", "--json")
    (line,) = [json.loads(x) for x in out.splitlines()]
    assert (line["username"], line["action"], line["directory"]) == ("ann", "update", "corp")
    assert line["fields"] == {"title": {"old": "Engineer", "new": "Team Lead, \"R&D\""}}

    target = tmp_path / "changes.jsonl"
    report("--run", str(result.run_id), "--changes", str(target), "--json")
    assert [json.loads(x)["username"] for x in target.read_text().splitlines()] == ["ann"]

    with pytest.raises(CommandError, match="--run N"):
        report("--changes")
    with pytest.raises(CommandError, match="no sync run #999999"):
        report("--run", "999999", "--changes")


def test_report_csv_cells_never_start_a_spreadsheet_formula():
    """Usernames, field keys and editors come from the directory and from people: in the
    CSV a cell starting = + - @ reaches a spreadsheet as text, and non-ASCII survives."""
    run = SyncRun.objects.create(started_at=timezone.now(), mode="full",
                                 status=RunStatus.SUCCEEDED)
    PersonChange.objects.create(run=run, directory_name="+corp", unique_id="-42",
                                username='=HYPERLINK("http://evil.test","x")',
                                action=ChangeAction.EDIT, actor="@søren", outcome="written",
                                fields={"=cmd": {"old": "Müller", "new": "Śmigły-Rydz"}},
                                at=timezone.now())

    (row,) = list(csv.DictReader(io.StringIO(report("--run", str(run.pk), "--changes"))))

    assert row["username"] == '\'=HYPERLINK("http://evil.test","x")'
    assert (row["directory"], row["unique_id"], row["actor"], row["field"]) == (
        "'+corp", "'-42", "'@søren", "'=cmd")
    assert (json.loads(row["old"]), json.loads(row["new"])) == ("Müller", "Śmigły-Rydz")


def test_history_is_filtered_by_action_and_field(subtree, make_directory, sync_directory):
    ann = subtree.add_person("ann", title="Engineer")
    ben = subtree.add_person("ben", title="Engineer", telephoneNumber="+49 30 1")
    directory = make_directory(subtree)
    sync_directory(directory)
    subtree.modify(ann, title="Lead")
    subtree.modify(ben, telephoneNumber="+49 30 2")
    result = sync_directory(directory)

    changes = PersonChange.objects.filter(run=result.run)
    assert [c.username for c in history.filtered(changes, field="phone")] == ["ben"]
    assert [c.username for c in history.filtered(changes, field="title")] == ["ann"]
    assert not history.filtered(changes, action=ChangeAction.CREATE).exists()


@pytest.mark.django_db(transaction=True)
def test_retention_job_prunes_history_older_than_the_setting(
        subtree, make_directory, sync_directory, profilesync_env):
    """The nightly job, run by a real worker with PROFILESYNC_CHANGE_HISTORY_DAYS=30, deletes
    the rows older than 30 days and keeps the rest."""
    subtree.add_people(3)
    directory = make_directory(subtree)
    result = sync_directory(directory)
    old = PersonChange.objects.filter(run=result.run).order_by("id")[:2]
    PersonChange.objects.filter(pk__in=[c.pk for c in old]).update(
        at=timezone.now() - timedelta(days=31))
    assert JOBS["change_history_prune"].default_cron == "45 3 * * *"

    JOBS["change_history_prune"].task.enqueue(trigger="manual")
    worker = subprocess.run([sys.executable, "-m", "profilesync.cli", "worker", "--batch",
                             "-v", "0"], env={**profilesync_env,
                                              "PROFILESYNC_CHANGE_HISTORY_DAYS": "30"},
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)

    assert worker.returncode == 0, worker.stderr
    assert PersonChange.objects.filter(run=result.run).count() == 1
    assert history.prune() == 0  # the default keeps 90 days


def test_run_over_two_directories_keeps_each_ones_history(
        make_subtree, make_directory):
    first, second = make_subtree(), make_subtree()
    first.add_people(2, prefix="a")
    second.add_people(3, prefix="b")
    one = make_directory(first, name="one")
    two = make_directory(second, name="two")

    report = run_sync([one, two], mode="full")

    by_directory = Counter(PersonChange.objects.filter(run=report.run)
                           .values_list("directory_name", flat=True))
    assert by_directory == {"one": 2, "two": 3}
    for result in report.results:
        assert_counts_match_rows(result)
        assert result.created == by_directory[result.directory_name]


def test_person_updated_then_deleted_within_one_run_is_one_row_counted_once(
        subtree, make_directory):
    """Ann's new title is read by the incremental pass, then she is deleted before the run's
    syncrepl refresh reports deletions: two passes touch her, the history has one row (the
    deactivation, with the title change), and the counts count her once."""
    ann = subtree.add_person("ann", title="Engineer")
    subtree.add_people(10)
    directory = make_directory(subtree)
    set_setting("incremental_sync", "on")
    run_sync([directory])
    run_sync([directory])  # stores a syncrepl cookie
    subtree.modify(ann, title="Team Lead")
    deleted = []

    def delete_ann_after_the_page(_name, _counts):
        if not deleted:
            subtree.delete(ann)
            deleted.append(ann)

    report = run_sync([directory], progress=delete_ann_after_the_page)

    (result,) = report.results
    assert result.deletions_source == "syncrepl (RFC 4533)"
    (row,) = PersonChange.objects.filter(run=report.run)
    assert (row.username, row.action) == ("ann", ChangeAction.DEACTIVATE)
    assert row.fields == {"title": {"old": "Engineer", "new": "Team Lead"},
                          "active": {"old": True, "new": False}}
    assert (result.updated, result.deactivated) == (0, 1)
    assert_counts_match_rows(result)


def test_field_fill_records_the_values_it_fills(subtree, make_directory):
    """A field added while incremental sync is on is filled for everyone at the next run:
    each person who got a value has an update row with that field, and the counts agree."""
    ann = subtree.add_person("ann", title="Engineer", roomNumber="R-1")
    subtree.add_person("ben", title="Engineer", roomNumber="R-2")
    subtree.add_person("cid", title="Engineer")
    directory = make_directory(subtree)
    set_setting("incremental_sync", "on")
    run_sync([directory])
    create_field("room", {"label": "Room", "type": "text", "ldap_attribute": "roomNumber"})
    subtree.modify(ann, title="Lead")

    report = run_sync([directory])

    (result,) = report.results
    assert result.fields_filled == ["room"]
    rows = {c.username: c.fields for c in PersonChange.objects.filter(run=report.run)}
    assert rows == {"ann": {"title": {"old": "Engineer", "new": "Lead"},
                            "room": {"old": None, "new": "R-1"}},
                    "ben": {"room": {"old": None, "new": "R-2"}}}
    assert_counts_match_rows(result)
