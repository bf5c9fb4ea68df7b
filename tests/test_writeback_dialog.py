"""Editing one's profile with write-back on: the dialog writes to the person's own entry."""

from __future__ import annotations

import re

import pytest

from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.modify import read_values
from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting
from profilesync.sync.runner import run_sync
from profilesync.writeback.models import PendingStatus, PendingWrite

pytestmark = pytest.mark.django_db

ANN_DN = "uid=ann,ou=people,dc=example,dc=org"


@pytest.fixture
def ann_client(client, acl_directory):
    """Ann logged in with her directory password, write-back on globally and for phone."""
    run_sync([acl_directory])
    set_setting("writeback_enabled", "on")
    update_field(ProfileField.objects.get(key="phone"), {"write_back": True})
    response = client.post("/login/", {"username": "ann", "password": "ann-pw-1"})
    assert response.status_code == 302
    return client


def ann() -> Profile:
    return Profile.objects.get(username="ann")


def edit_url() -> str:
    return f"/people/{ann().pk}/edit/"


def open_dialog(client) -> dict[str, str]:
    """GET the dialog and return the form's current values, hidden ones included."""
    html = client.get(edit_url()).content.decode()
    values = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) != "csrfmiddlewaretoken":
            values[name.group(1)] = (value.group(1) if value else "").replace("&quot;", '"')
    return values


def directory_phone(directory) -> list[bytes]:
    with connected(directory.connection_settings()) as conn:
        return read_values(conn, ANN_DN, "telephoneNumber")


def test_phone_with_write_back_is_editable_and_saving_writes_the_directory(ann_client,
                                                                           acl_directory):
    """The phone number is editable in the dialog and saving it changes Ann's entry."""
    form = open_dialog(ann_client)
    assert form["phone"] == "+49 30 1111"

    form["phone"] = "+49 30 2222"
    response = ann_client.post(edit_url(), form, follow=True)

    assert "Your profile was saved." in response.content.decode()
    assert directory_phone(acl_directory) == [b"+49 30 2222"]
    assert ann().values["phone"] == "+49 30 2222"


def test_change_in_the_directory_after_opening_is_shown_as_a_conflict(ann_client,
                                                                      acl_directory,
                                                                      acl_server):
    """Open the dialog, change the entry with an LDAP modify, save: nothing is overwritten,
    both values are shown, and saving again keeps the person's value."""
    form = open_dialog(ann_client)
    acl_server.modify(ANN_DN, {"telephoneNumber": ["+49 30 9999"]})
    form["phone"] = "+49 30 2222"

    conflict = ann_client.post(edit_url(), form).content.decode()

    assert "Changed in the directory since you opened this" in conflict
    assert "+49 30 9999" in conflict and 'value="+49 30 2222"' in conflict
    assert directory_phone(acl_directory) == [b"+49 30 9999"]
    seen = re.search(r'name="seen-phone" value="([^"]*)"', conflict).group(1)
    form["seen-phone"] = seen.replace("&quot;", '"')
    ann_client.post(edit_url(), form)
    assert directory_phone(acl_directory) == [b"+49 30 2222"]


def test_unreachable_directory_keeps_the_edit_pending_and_shows_it(ann_client, acl_directory,
                                                                   acl_server):
    """If the directory is down when saving, the edit is kept, marked pending on the profile,
    and nothing is lost."""
    form = open_dialog(ann_client)
    acl_server.stop()
    form["phone"] = "+49 30 2222"

    saved = ann_client.post(edit_url(), form, follow=True).content.decode()

    assert "pending" in saved and "+49 30 2222" in saved
    assert PendingWrite.objects.get().status == PendingStatus.PENDING


def test_field_without_write_back_cannot_be_changed_by_posting_it(ann_client, acl_directory):
    """title has no write-back: posting a value by hand changes nothing anywhere."""
    form = open_dialog(ann_client)
    assert "title" not in form
    form["title"] = "Director"

    ann_client.post(edit_url(), form)

    with connected(acl_directory.connection_settings()) as conn:
        assert read_values(conn, ANN_DN, "title") == [b"Engineer"]
    assert ann().values["title"] == "Engineer"
