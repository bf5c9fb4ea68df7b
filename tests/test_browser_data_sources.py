"""The Data Sources page in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import pytest

from profilesync.sync.models import DataSourceSettings


@pytest.mark.django_db(transaction=True)
def test_administrator_sets_the_last_sync_date_and_sees_the_next_filter(
        page, live_server, subtree, make_directory, sync_directory, django_user_model):
    """An administrator logs in, is refused a date in the wrong format with the format shown,
    then enters a valid one and sees the exact filter the next run of a directory that
    synced before will send."""
    subtree.add_people(1)
    sync_directory(make_directory(subtree))
    django_user_model.objects.create_superuser("root-admin", password="pw-not-secret-3")

    page.goto(f"{live_server.url}/admin/data-sources/")
    page.fill("#id_username", "root-admin")
    page.fill("#id_password", "pw-not-secret-3")
    page.click("button[type=submit]")
    page.check("#id_incremental_sync")
    page.fill("#id_last_ldap_sync_date", "2016-05-23 15:00")
    page.click("text=Save")
    refused = page.text_content("main")
    page.fill("#id_last_ldap_sync_date", "23-05-2016 15:00:00")
    page.click("text=Save")
    saved = page.text_content("main")

    assert "dd-MM-yyyy HH:mm:ss" in refused and "23-05-2016 15:00:00" in refused
    assert "Data Sources saved." in saved
    assert "(modifyTimestamp>=20160523150000+0000)" in saved
    assert DataSourceSettings.load().incremental_sync
