"""Live updates on the pages, in a real browser: the switch on Data Sources, the state on
Directories."""

from __future__ import annotations

import pytest
from django.utils import timezone

from profilesync.live.models import LiveListener, LiveState


@pytest.mark.django_db(transaction=True)
def test_administrator_switches_live_updates_off_and_sees_the_listener_state(
        page, live_server, subtree, make_directory, sync_directory, django_user_model, log_in):
    """Data Sources shows each directory's live switch and the listener's state; switched off
    and saved, the setting is stored and shown; the Directories page shows the state too."""
    subtree.add_people(1)
    directory = make_directory(subtree)
    sync_directory(directory)
    LiveListener.objects.create(directory=directory, state=LiveState.CONNECTED,
                                since=timezone.now(), method="syncrepl",
                                holder="worker host:1", message="resumed from the stored cookie")
    django_user_model.objects.create_superuser("root-admin", password="pw-not-secret-3")
    log_in(page, live_server, "root-admin", "pw-not-secret-3")

    page.goto(f"{live_server.url}/admin/data-sources/")
    before = page.text_content("main")
    field = f"#id_live_{directory.pk}"
    shown_default = page.input_value(field)
    page.select_option(field, "off")
    page.click("text=Save")
    saved = page.text_content("main")
    kept = page.input_value(field)  # the page after saving shows the stored choice
    page.goto(f"{live_server.url}/admin/directories/")
    listed = page.text_content("main")

    assert shown_default == "default"
    assert "now: connected (syncrepl): resumed from the stored cookie" in " ".join(before.split())
    assert "Data Sources saved." in saved
    assert LiveListener.objects.get(directory=directory).live is False
    assert kept == "off"
    assert "connected" in listed and "syncrepl" in listed
