"""Incremental sync from Active Directory by ``whenChanged`` with AD's default pattern.

The time-based incremental pass (``PROFILESYNC_AD_CHANGE_TRACKING=timestamp``;
the default tracks AD by uSNChanged, tested in test_ad_usn.py) must work
against a real DC: the filter ``whenChanged>=20261127130113.+0000`` (the pattern written out) is understood,
the watermark is the DC's own ``currentTime``, and a failed run moves nothing.
"""

from __future__ import annotations

import re

import pytest

from profilesync.sync.datasources import set_setting
from profilesync.sync.models import DirectorySyncState, RunStatus
from profilesync.sync.pattern_check import check_pattern
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db


def only_result(report):
    (result,) = report.results
    return result


@pytest.fixture
def by_timestamp(settings) -> None:
    settings.PROFILESYNC_AD_CHANGE_TRACKING = "timestamp"


@pytest.fixture
def synced(by_timestamp, ad_ou, ad_directory):
    """Ann and Ben in AD, fully synced once, incremental sync on; returns (directory, {sam: DN})."""
    people = {sam: ad_ou.add_user(sam, title="Engineer") for sam in ("ann", "ben")}
    directory = ad_directory(ad_ou)
    assert only_result(run_sync([directory], mode="full")).status == RunStatus.SUCCEEDED
    set_setting("incremental_sync", "on")
    return directory, people


def test_changed_title_arrives_with_an_incremental_run(synced, ad_ou, profiles):
    """A title changed in AD shows in the profile after the next incremental run, alone."""
    directory, people = synced
    ad_ou.modify(people["ann"], title="Head of Research")

    result = only_result(run_sync([directory]))

    assert (result.status, result.mode) == (RunStatus.SUCCEEDED, "incremental")
    assert re.search(r"\(whenChanged>=\d{14}\.\+0000\)", result.filter_sent), result.filter_sent
    assert result.watermark_source == "directory currentTime"
    assert result.updated == 1
    assert profiles(directory)["ann"].values["title"] == "Head of Research"
    assert profiles(directory)["ben"].values["title"] == "Engineer"


def test_failed_run_keeps_the_watermark_and_the_next_run_finds_the_change(synced, ad_ou, profiles):
    """A run that cannot bind moves no watermark, so the change it missed arrives later."""
    directory, people = synced
    before = DirectorySyncState.objects.get(directory=directory).watermark
    ad_ou.modify(people["ben"], title="Missed while refused")
    directory.set_bind_password("not-the-password")
    directory.save()

    failed = only_result(run_sync([directory]))

    assert failed.status == RunStatus.FAILED
    assert DirectorySyncState.objects.get(directory=directory).watermark == before
    directory.set_bind_password(ad_ou.dc.admin_password)
    directory.save()
    assert only_result(run_sync([directory])).updated == 1
    assert profiles(directory)["ben"].values["title"] == "Missed while refused"


def test_check_pattern_says_ad_understands_its_default_pattern(synced):
    """"Check pattern" against the DC: yyyyMMddHHmmss.Z is understood, as the vendor default."""
    directory, _ = synced

    check = check_pattern(directory)

    assert check.pattern == "yyyyMMddHHmmss.Z"
    assert check.understood is True, check.message
