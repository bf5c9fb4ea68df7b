"""`profilesync sync report`: the runs, their counts and the configuration each used."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db


def report(*argv: str) -> str:
    out = StringIO()
    call_command("sync", "report", *argv, stdout=out)
    return out.getvalue()


def test_report_lists_the_latest_runs_first_with_their_counts(subtree, make_directory):
    """Each run shows date, duration, mode and per-directory counts; the newest comes first."""
    subtree.add_people(3)
    directory = make_directory(subtree)
    first = run_sync([directory])
    set_setting("incremental_sync", "on")
    second = run_sync([directory])

    runs = json.loads(report("--json"))

    assert [r["run"] for r in runs] == [second.run.pk, first.run.pk]
    assert runs[1]["directories"]["corp"]["created"] == 3
    assert runs[0]["mode"] == "incremental"
    assert runs[0]["duration_seconds"] >= 0
    text = report()
    assert f"#{second.run.pk}" in text and "created 3" in text


def test_report_detail_shows_filter_pattern_and_watermarks(subtree, make_directory):
    """One run in detail names the filter sent, the timestamp pattern and the watermark moved."""
    subtree.add_people(1)
    directory = make_directory(subtree)
    run_sync([directory])
    set_setting("incremental_sync", "on")
    set_setting("last_ldap_sync_date", "01-01-2020 00:00:00")
    incremental = run_sync([directory])

    detail = report("--run", str(incremental.run.pk))
    data = json.loads(report("--run", str(incremental.run.pk), "--json"))[0]

    assert "(modifyTimestamp>=20200101000000+0000)" in detail
    assert "timestamp pattern: yyyyMMddHHmmssZ" in detail
    assert "01-01-2020 00:00:00 ->" in detail
    corp = data["directories"]["corp"]
    assert corp["watermark_before"] == "01-01-2020 00:00:00"
    assert corp["watermark_after"] not in (None, corp["watermark_before"])


def test_report_of_an_unknown_run_exits_2():
    """Asking for a run that does not exist names --run and how to list runs."""
    with pytest.raises(CommandError) as refused:
        report("--run", "999")
    assert refused.value.returncode == 2 and "--run" in str(refused.value)
