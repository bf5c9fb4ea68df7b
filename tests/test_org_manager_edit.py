"""An administrator changes a manager with the person picker; write-back writes the DN
(real slapd, Client with CSRF checks)."""

from __future__ import annotations

import ldap
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from profilesync.accounts.roles import Role, set_role
from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.reporting_lines import manager_of
from profilesync.profiles.services import update_field
from profilesync.sync.datasources import set_setting

pytestmark = pytest.mark.django_db


@pytest.fixture
def team(subtree, make_directory, sync_directory):
    old = subtree.add_person("old", displayName="Olive Old")
    subtree.add_person("new", displayName="Nina New", title="Head of Sales")
    amy = subtree.add_person("amy", displayName="Amy Report", manager=old)
    directory = make_directory(subtree)
    sync_directory(directory)
    return directory, amy, {p.username: p for p in Profile.objects.filter(directory=directory)}


def client_for(role: Role | None, name: str = "someone") -> Client:
    user = get_user_model().objects.create_user(name, password="pw-for-tests-1")
    if role is not None:
        set_role(user, role)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def post(client: Client, url: str, data: dict):
    client.get(url)
    return client.post(url, {**data, "csrfmiddlewaretoken": client.cookies["csrftoken"].value})


def writeback_on() -> None:
    set_setting("writeback_enabled", "on")
    update_field(ProfileField.objects.get(key="manager"), {"write_back": True})


def test_picker_lists_people_as_you_type(team):
    _, _, people = team
    admin = client_for(Role.ADMINISTRATOR)
    url = f"/people/{people['amy'].pk}/manager/"
    page = admin.get(url).content.decode()
    assert "Olive Old" in page  # the current manager
    found = admin.get(url, {"q": "nina"}, headers={"HX-Request": "true"}).content.decode()
    assert "Nina New" in found and f'value="{people["new"].pk}"' in found
    assert "Amy Report" not in admin.get(url, {"q": "amy"},
                                         headers={"HX-Request": "true"}).content.decode()


def test_administrator_writes_the_new_managers_dn(team, subtree):
    directory, amy_dn, people = team
    writeback_on()
    admin = client_for(Role.ADMINISTRATOR)
    url = f"/people/{people['amy'].pk}/manager/"

    response = post(admin, url, {"manager": people["new"].pk, "seen": people["old"].dn})

    assert response.status_code == 302, response.content.decode()
    entry = subtree.conn.search_s(amy_dn, ldap.SCOPE_BASE, attrlist=["manager"])[0][1]
    assert entry["manager"] == [people["new"].dn.encode()]
    viewer = get_user_model().objects.get(username="someone")
    amy = Profile.objects.get(pk=people["amy"].pk)
    assert manager_of(amy, viewer).person.name == "Nina New"
    assert "Manager set to Nina New" in admin.get(f"/people/{amy.pk}/").content.decode()


def test_no_manager_removes_the_attribute(team, subtree):
    _, amy_dn, people = team
    writeback_on()
    admin = client_for(Role.ADMINISTRATOR)
    post(admin, f"/people/{people['amy'].pk}/manager/",
         {"manager": "none", "seen": people["old"].dn})
    entry = subtree.conn.search_s(amy_dn, ldap.SCOPE_BASE, attrlist=["manager"])[0][1]
    assert "manager" not in entry


def test_refusals_are_explained(team, make_subtree, make_directory, sync_directory):
    _, _, people = team
    admin = client_for(Role.ADMINISTRATOR)
    url = f"/people/{people['amy'].pk}/manager/"
    off = post(admin, url, {"manager": people["new"].pk, "seen": people["old"].dn})
    assert off.status_code == 200 and "not written to the directory" in off.content.decode()

    writeback_on()
    other = make_subtree()
    other.add_person("stranger")
    sync_directory(make_directory(other, name="other"))
    stranger = Profile.objects.get(username="stranger")
    refused = post(admin, url, {"manager": stranger.pk, "seen": people["old"].dn})
    assert "same directory" in refused.content.decode()


def test_only_administrators_change_managers(team):
    _, _, people = team
    assert client_for(None).get(f"/people/{people['amy'].pk}/manager/").status_code == 403
    assert Client().get(f"/people/{people['amy'].pk}/manager/").status_code == 302
