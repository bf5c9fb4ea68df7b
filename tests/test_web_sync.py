"""The Data Sources and sync report pages, as a System Administrator uses them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model

from profilesync.directories.services import update_directory
from profilesync.sync.datasources import set_setting
from profilesync.sync.models import DataSourceSettings, DirectorySyncState
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root-admin", password="pw-not-secret-1")
    client.force_login(user)
    return client


@pytest.fixture
def synced_directory(subtree, make_directory):
    subtree.add_people(2)
    directory = make_directory(subtree)
    run_sync([directory])
    return directory


def test_pages_are_for_system_administrators_only(client, django_user_model):
    """Anonymous visitors are sent to the login page; signed-in people without the role
    are refused with a page that says who may open it."""
    anonymous = client.get("/admin/data-sources/")
    django_user_model.objects.create_user("someone", password="pw-not-secret-2")
    client.login(username="someone", password="pw-not-secret-2")
    ordinary = client.get("/admin/sync/")

    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert ordinary.status_code == 403 and "Only a System Administrator" in ordinary.content.decode()


def test_date_in_another_format_is_refused_at_the_field(admin_client, synced_directory):
    """A wrong date shows the format and an example next to the field, and nothing is saved."""
    set_setting("last_ldap_sync_date", "23-05-2016 15:00:00")

    response = admin_client.post("/admin/data-sources/", {
        "incremental_sync": "on", "last_ldap_sync_date": "2016-05-23",
        f"pattern_{synced_directory.pk}": "yyyyMMddHHmmssZ"})

    assert response.status_code == 200
    assert "dd-MM-yyyy HH:mm:ss" in response.content.decode()
    assert "23-05-2016 15:00:00" in response.content.decode()
    assert not DataSourceSettings.load().incremental_sync


def test_saving_a_date_previews_the_next_filter(admin_client, synced_directory):
    """After saving a date, the page shows the exact incremental filter the next run sends,
    and names the time zone the date is in."""
    response = admin_client.post("/admin/data-sources/", {
        "incremental_sync": "on", "last_ldap_sync_date": "23-05-2016 15:00:00",
        f"pattern_{synced_directory.pk}": "yyyyMMddHHmmssZ"}, follow=True)

    page = response.content.decode()
    assert "Data Sources saved." in page
    assert "(modifyTimestamp&gt;=20160523150000+0000)" in page
    assert "UTC" in page


def test_bad_pattern_is_refused_with_the_reason(admin_client, synced_directory):
    """A pattern without seconds is refused at its field; the stored one stays."""
    response = admin_client.post("/admin/data-sources/", {
        "last_ldap_sync_date": "", f"pattern_{synced_directory.pk}": "yyyyMMddHHmm"})

    assert "has no second" in response.content.decode()
    synced_directory.refresh_from_db()
    assert synced_directory.timestamp_pattern == "yyyyMMddHHmmssZ"


def test_saving_unchanged_keeps_each_directory_watermark(admin_client, synced_directory,
                                                         subtree, make_directory):
    """Saving the page without editing the date does not move any directory's watermark."""
    other = make_directory(subtree, name="other")
    run_sync([other])
    older = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    DirectorySyncState.objects.filter(directory=other).update(watermark=older)
    before = DirectorySyncState.objects.get(directory=synced_directory).watermark
    page = admin_client.get("/admin/data-sources/")
    shown = page.context["form"].initial["last_ldap_sync_date"]

    admin_client.post("/admin/data-sources/", {
        "incremental_sync": "on", "last_ldap_sync_date": shown,
        f"pattern_{synced_directory.pk}": "yyyyMMddHHmmssZ",
        f"pattern_{other.pk}": "yyyyMMddHHmmssZ"})

    assert DirectorySyncState.objects.get(directory=synced_directory).watermark == before


def test_check_pattern_button_reports_what_the_directory_says(admin_client, synced_directory):
    """"Check pattern" with AD's pattern on OpenLDAP says it is not understood."""
    update_directory(synced_directory, {"timestamp_pattern": "yyyyMMddHHmmss.Z"})

    response = admin_client.post(f"/admin/data-sources/check-pattern/{synced_directory.pk}",
                                 follow=True)

    assert "not understood" in response.content.decode()


def test_report_lists_runs_and_the_detail_explains_one(admin_client, synced_directory):
    """The report lists each run; a run's page shows the filter, pattern and watermarks used."""
    set_setting("incremental_sync", "on")
    report = run_sync([synced_directory])

    listing = admin_client.get("/admin/sync/").content.decode()
    detail = admin_client.get(f"/admin/sync/{report.run.pk}/").content.decode()

    assert f"#{report.run.pk}" in listing and "incremental" in listing
    result = report.results[0]
    assert "modifyTimestamp&gt;=" in detail
    assert "yyyyMMddHHmmssZ" in detail
    assert result.watermark_source in detail or "contextCSN" in detail


def test_run_now_queues_the_sync_for_a_worker(admin_client, synced_directory):
    """"Run now" queues the scheduled job's task; the page says a worker will start it."""
    from django_tasks_db.models import DBTaskResult

    response = admin_client.post("/admin/sync/run-now", follow=True)

    assert "Sync queued" in response.content.decode()
    (task,) = DBTaskResult.objects.all()
    assert task.args_kwargs["kwargs"]["trigger"] == "manual"


def test_running_sync_shows_its_progress_on_the_run_page(admin_client, subtree, make_directory,
                                                         monkeypatch):
    """While a run is still reading pages, its page shows how many users were read so far."""
    from profilesync.sync import passes

    subtree.add_people(3)
    directory = make_directory(subtree, page_size=1)
    seen_pages = []
    real_plan_page = passes.plan_page

    def plan_page_and_look(page, *args, **kwargs):
        plan = real_plan_page(page, *args, **kwargs)
        if len(seen_pages) == 1:  # the second page: one page is published already
            from profilesync.sync.models import SyncRun

            run = SyncRun.objects.get(status="running")
            seen_pages.append(admin_client.get(f"/admin/sync/{run.pk}/").content.decode())
        else:
            seen_pages.append(None)
        return plan

    monkeypatch.setattr(passes, "plan_page", plan_page_and_look)
    run_sync([directory])

    assert "In progress" in seen_pages[1]
    assert "corp: 1 users read (created 1" in seen_pages[1]
