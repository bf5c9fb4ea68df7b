"""A pending write-back in a real browser: the dialog shows it with its reason, and the
person withdraws it with one tick."""

from __future__ import annotations

import pytest

from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.modify import read_values
from profilesync.profiles.models import ProfileField
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync
from profilesync.writeback.models import PendingStatus, PendingWrite

pytestmark = pytest.mark.django_db(transaction=True)

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"


def open_dialog(page):
    page.click("text=My profile")
    page.wait_for_load_state("load")
    page.click("text=Edit profile")
    dialog = page.locator("dialog.edit-profile")
    dialog.wait_for(state="visible")
    return dialog


def test_pending_edit_is_shown_in_the_dialog_and_can_be_withdrawn(page, live_server, log_in,
                                                                  screenshot_dir,
                                                                  acl_directory, acl_server):
    """Ann saves a new phone number while the directory is down: the page says it is kept
    pending and when it is retried; reopening the dialog shows her number marked "not in
    the directory yet" with the reason; she ticks "Withdraw this change" and saves: nothing
    is pending and the directory keeps its number."""
    run_sync([acl_directory])
    set_setting("writeback_enabled", "on")
    update_field(ProfileField.objects.get(key="phone"), {"write_back": True})
    log_in(page, live_server, "ann", "ann-pw-1")
    dialog = open_dialog(page)
    acl_server.stop()
    dialog.locator("#id_phone").fill("+49 30 2222")
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("text=kept pending; retried every 5 minutes")
    acl_server.start()

    dialog = open_dialog(page)
    assert dialog.locator("#id_phone").input_value() == "+49 30 2222"
    note = dialog.locator(".pending-write")
    assert "Your change is not in the directory yet" in note.text_content()
    assert "no LDAP server answered" in note.text_content()
    page.screenshot(path=str(screenshot_dir / "writeback-pending-dialog.png"))
    dialog.locator("label:has-text('Withdraw this change') input").check()
    dialog.locator("#id_phone").fill("+49 30 1111")
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("text=Your profile was saved.")

    assert not PendingWrite.objects.filter(status=PendingStatus.PENDING).exists()
    assert PendingWrite.objects.get().status == PendingStatus.WITHDRAWN
    with connected(acl_directory.connection_settings()) as conn:
        assert read_values(conn, ANN_DN, "telephoneNumber") == [b"+49 30 1111"]
