"""Timestamp patterns that cannot inject filter syntax or shift the watermark, checked
against the server when they are set."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from profilesync.directories.models import Directory
from profilesync.errors import InvalidSetting
from profilesync.ldapclient.timestamps import format_timestamp, parse_pattern
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import RunStatus
from profilesync.sync.runner import run_sync

INSTANT = dt.datetime(2026, 11, 27, 10, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("pattern", [
    "yyyyMMddHHmmss'*'",
    "yyyyMMddHHmmss'Z)(uid=*'",
    "yyyyMMddHHmmss'('",
    "yyyyMMddHHmmss'\\'",
    "yyyyMMddHHmmss'\x00'",
    "yyyyMMddHHmmss*",
    "yyyyMMddHHmmss)",
])
def test_literals_with_filter_characters_are_refused(pattern):
    with pytest.raises(InvalidSetting) as refused:
        parse_pattern(pattern)
    assert refused.value.setting == "timestamp_pattern"
    assert "change the search filter" in refused.value.message


@pytest.mark.parametrize("pattern", [
    "yyyyMMddHHmmss'-0500'", "yyyyMMddHHmmss'+01:00'", "yyyyMMddHHmmss-0500",
    "yyyyMMddHHmmss'+02'",
])
def test_literals_that_look_like_an_offset_are_refused(pattern):
    """A literal offset would move the watermark hours away: the value is written in UTC."""
    with pytest.raises(InvalidSetting) as refused:
        parse_pattern(pattern)
    assert "UTC offset" in refused.value.message and "Z" in refused.value.message


@pytest.mark.parametrize(("pattern", "written"), [
    ("yyyyMMddHHmmss'Z'", "20261127100000Z"),
    ("yyyyMMddHHmmssZ", "20261127100000+0000"),
    ("yyyyMMddHHmmss.Z", "20261127100000.+0000"),
    ("yyyyMMddHHmmss'.0Z'", "20261127100000.0Z"),
    ("yyyy-MM-dd'T'HH:mm:ssX", "2026-11-27T10:00:00Z"),
])
def test_the_patterns_directories_use_still_work(pattern, written):
    assert format_timestamp(INSTANT, pattern) == written


@pytest.mark.django_db(transaction=True)
def test_cli_refuses_an_injecting_pattern_and_saves_nothing(subtree, make_directory, cli):
    directory = make_directory(subtree)

    code, _, err = cli("directory", "set", "corp", "--timestamp-pattern", "yyyyMMddHHmmss'Z)(uid=*'")

    assert code == 2 and "--timestamp-pattern" in err and "search filter" in err
    assert Directory.objects.get(pk=directory.pk).timestamp_pattern == "yyyyMMddHHmmssZ"


@pytest.mark.django_db
def test_a_stored_pattern_refused_now_fails_the_run_before_any_filter_is_sent(
        subtree, make_directory, sync_directory):
    """A pattern saved before these checks (here written straight to the database) is refused
    by the run with the setting to fix; it never reaches the server."""
    subtree.add_people(2)
    directory = make_directory(subtree)
    sync_directory(directory)
    set_setting("incremental_sync", "on")
    Directory.objects.filter(pk=directory.pk).update(timestamp_pattern="yyyyMMddHHmmss'*'")
    directory.refresh_from_db()

    (result,) = run_sync([directory]).results

    assert result.status == RunStatus.FAILED
    assert result.errors[0]["setting"] == "timestamp_pattern"
    assert "change the search filter" in result.errors[0]["message"]


@pytest.mark.django_db(transaction=True)
def test_setting_a_pattern_checks_it_against_the_server_and_shows_the_result(
        subtree, make_directory, cli):
    """OpenLDAP ignores yyyyMMddHHmmss.Z (it matches nothing); setting it says so at once,
    and setting a good pattern says it is understood."""
    subtree.add_people(1)
    make_directory(subtree)

    code, out, _ = cli("directory", "set", "corp", "--timestamp-pattern", "yyyyMMddHHmmss.Z")
    assert code == 0
    assert "pattern check: 'yyyyMMddHHmmss.Z' not understood" in out
    code, out, _ = cli("directory", "set", "corp", "--timestamp-pattern", "yyyyMMddHHmmss'Z'")
    assert "pattern check: \"yyyyMMddHHmmss'Z'\" understood" in out


@pytest.mark.django_db(transaction=True)
def test_check_pattern_json_has_ok_like_the_other_checks(subtree, make_directory, cli):
    subtree.add_people(1)
    make_directory(subtree)

    code, out, _ = cli("directory", "check-pattern", "corp", "--json")
    assert (code, json.loads(out)["ok"]) == (0, True)
    cli("directory", "set", "corp", "--timestamp-pattern", "yyyyMMddHHmmss.Z")
    code, out, _ = cli("directory", "check-pattern", "corp", "--json")
    answer = json.loads(out)
    assert (code, answer["ok"], answer["understood"]) == (1, False, False)
