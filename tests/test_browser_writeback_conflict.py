"""A write-back conflict in a real browser: both values shown, and one click keeps the directory's."""

from __future__ import annotations

import pytest

from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.modify import read_values
from profilesync.profiles.models import ProfileField
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync
from profilesync.writeback.models import WriteAudit, WriteResultKind

pytestmark = pytest.mark.django_db(transaction=True)

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"


def directory_phone(directory) -> list[bytes]:
    with connected(directory.connection_settings()) as conn:
        return read_values(conn, ANN_DN, "telephoneNumber")


def test_person_keeps_the_directorys_value_after_a_conflict(page, live_server, log_in,
                                                           screenshot_dir, acl_directory,
                                                           acl_server):
    """Ann opens the dialog, someone changes her phone in the directory, she saves her own
    number: the dialog shows the conflict; "Use the directory's value" and Save keep the
    directory's number and write nothing."""
    run_sync([acl_directory])
    set_setting("writeback_enabled", "on")
    update_field(ProfileField.objects.get(key="phone"), {"write_back": True})
    log_in(page, live_server, "ann", "ann-pw-1")
    page.click("text=My profile")
    page.wait_for_load_state("load")
    page.click("text=Edit profile")
    dialog = page.locator("dialog.edit-profile")
    dialog.wait_for(state="visible")
    assert dialog.locator("#id_phone").input_value() == "+49 30 1111"

    acl_server.modify(ANN_DN, {"telephoneNumber": ["+49 30 9999"]})
    dialog.locator("#id_phone").fill("+49 30 2222")
    dialog.locator("button[type=submit]").click()
    use_theirs = page.locator("dialog.edit-profile button:has-text(\"Use the directory's value\")")
    use_theirs.wait_for(state="visible")
    dialog = page.locator("dialog.edit-profile")
    assert "+49 30 9999" in dialog.text_content()
    page.screenshot(path=str(screenshot_dir / "writeback-conflict-dialog.png"))

    use_theirs.click()
    assert dialog.locator("#id_phone").input_value() == "+49 30 9999"
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("text=Your profile was saved.")
    assert "+49 30 9999" in page.text_content("main")
    assert directory_phone(acl_directory) == [b"+49 30 9999"]
    results = list(WriteAudit.objects.values_list("new_value", "result"))
    assert results == [("+49 30 2222", WriteResultKind.CONFLICT)]  # the refused try, no write
