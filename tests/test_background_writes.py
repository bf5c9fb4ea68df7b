"""A full pass writes each page on a second thread, inside the directory's one transaction."""

from __future__ import annotations

import pytest

from profilesync.profiles.models import Profile
from profilesync.sync import writer
from profilesync.sync.background_writes import BackgroundWrites
from profilesync.sync.models import DirectoryRunResult, RunStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_writes_run_in_order_and_a_failure_reaches_the_caller():
    """Jobs run one after the other; the first failure is raised in the caller, later jobs skipped."""
    done = []

    def fail(cursor):
        raise ValueError("disk full")

    with pytest.raises(ValueError, match="disk full"), BackgroundWrites() as write:
        write(lambda cursor: done.append(1))
        write(lambda cursor: done.append(2))
        write(fail)
        write(lambda cursor: done.append(3))
    assert done[:2] == [1, 2] and 3 not in done


def test_a_page_that_cannot_be_written_leaves_nothing_written(
        subtree, make_directory, sync_directory, monkeypatch):
    """When writing the second page fails, the directory's part fails (recorded there, the
    run goes on with other directories) and the first page is rolled back too."""
    subtree.add_people(5)
    directory = make_directory(subtree, page_size=2)
    real_insert_many = writer.insert_many
    pages = []

    def insert_many_failing_once(cursor, *args):
        pages.append(1)
        if len(pages) == 2:
            raise RuntimeError("the database went away")
        real_insert_many(cursor, *args)

    monkeypatch.setattr(writer, "insert_many", insert_many_failing_once)

    result = sync_directory(directory)

    assert result.status == RunStatus.FAILED
    assert "unexpected error RuntimeError" in result.errors[0]["message"]
    assert Profile.objects.filter(directory=directory).count() == 0
    assert not DirectoryRunResult.objects.filter(directory=directory, created__gt=0).exists()
