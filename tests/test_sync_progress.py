"""What other processes see of a running sync, and the statistics left behind by a big one."""

from __future__ import annotations

import pytest
from django.db import connection

from profilesync.sync.importer import ImportCounts
from profilesync.sync.planner_statistics import refresh_planner_statistics
from profilesync.sync.progress import ThrottledProgress, read_progress


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.django_db
def test_progress_is_published_at_the_first_page_then_at_most_once_a_second():
    """The run page shows counts after the first page, then fresh ones about every second."""
    clock = FakeClock()
    publish = ThrottledProgress(run_id=4711, clock=clock)

    publish("corp", ImportCounts(created=1))
    clock.now += 0.5
    publish("corp", ImportCounts(created=2))
    assert read_progress(4711)["corp"]["created"] == 1
    publish("other", ImportCounts(created=7))  # another directory has its own second
    clock.now += 0.6
    publish("corp", ImportCounts(created=3))

    assert read_progress(4711)["corp"]["created"] == 3
    assert read_progress(4711)["other"]["created"] == 7


@pytest.mark.django_db
def test_a_run_that_changed_most_profiles_analyzes_the_table_on_postgresql(
        subtree, make_directory):
    """After a big change the planner gets statistics (PostgreSQL); small runs and SQLite skip it."""
    directory = make_directory(subtree)

    assert refresh_planner_statistics(directory, ImportCounts(updated=5)) is False
    ran = refresh_planner_statistics(directory, ImportCounts(created=5000))

    assert ran is (connection.vendor == "postgresql")
