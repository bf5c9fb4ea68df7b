"""The REST API against a directory synced from a real slapd: tokens, search, visibility, runs."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from profilesync.accounts.backends import user_for_profile
from profilesync.accounts.roles import Role, set_role
from profilesync.api.models import ApiToken
from profilesync.profiles.models import Profile, ProfileField
from profilesync.profiles.services import create_field
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db


@pytest.fixture
def corp(subtree, make_directory):
    """Three people synced; a select field to filter on and a field only admins see."""
    subtree.add_person("alice", displayName="Alice Archer", title="Engineer",
                       telephoneNumber="+1 555 0100")
    subtree.add_person("bob", displayName="Bob Baker", title="Designer")
    subtree.add_person("carol", displayName="Carol Chen", title="Engineer")
    directory = make_directory(subtree)
    create_field("team", {"label": "Team", "type": "select", "options": "Red,Blue"})
    create_field("emergency", {"label": "Emergency contact", "category": "Private"})
    ProfileField.objects.filter(key="emergency").update(visible_to=[Role.ADMINISTRATOR.value])
    run_sync([directory], mode="full")
    for username, team in (("alice", "Red"), ("bob", "Blue"), ("carol", "Red")):
        profile = Profile.objects.get(username=username)
        profile.local_values = {"team": team, "emergency": f"call {username}'s mum"}
        profile.save(update_fields=["local_values"])  # as the edit dialog saves
    return directory


def token_command(*argv: str) -> str:
    """``profilesync token ARGV`` through Django's command runner; its standard output."""
    out = StringIO()
    call_command("token", *argv, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def token_of():
    """``token_of(username)``: a fresh API token made with the command line (the person
    signs in first, as a directory user must before their login exists)."""

    def make(username: str) -> str:
        login_of(username)
        return token_command("create", username, "--name", "tests").strip()

    return make


def login_of(username: str):
    return user_for_profile(Profile.objects.get(username=username))


def get(client, path: str, token: str | None = None, **params):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get(f"/api/v1{path}", params, headers=headers)


def test_the_api_refuses_callers_without_a_session_or_a_valid_token(corp, client):
    assert get(client, "/people").status_code == 401
    assert get(client, "/people", token="psk_not-a-real-token").status_code == 401


def test_a_token_searches_people_by_name_prefix_and_is_stored_only_as_a_digest(
        corp, client, token_of):
    login_of("bob")
    token = token_of("bob")
    answer = get(client, "/people", token, q="ali")
    assert answer.status_code == 200
    body = answer.json()
    assert [p["username"] for p in body["people"]] == ["alice"]
    assert body["count"] == 1 and body["count_is_exact"]
    alice = body["people"][0]
    assert alice["name"] == "Alice Archer"
    assert alice["headline"] == ["Engineer"]
    assert alice["fields"]["phone"] == "+1 555 0100"
    assert alice["url"].endswith(f"/people/{alice['id']}/")
    stored = ApiToken.objects.get()
    assert token not in (stored.digest, stored.prefix) and token.startswith(stored.prefix)


def test_filters_take_select_fields_and_a_wrong_key_names_the_parameter(corp, client, token_of):
    login_of("bob")
    token = token_of("bob")
    reds = get(client, "/people", token, filter="team=Red").json()
    assert sorted(p["username"] for p in reds["people"]) == ["alice", "carol"]
    both = get(client, "/people", token, q="carol", filter="team=Red").json()
    assert [p["username"] for p in both["people"]] == ["carol"]
    wrong = get(client, "/people", token, filter="shoe=42")
    assert wrong.status_code == 422
    assert "filter" in wrong.json()["detail"] and "team" in wrong.json()["detail"]
    assert get(client, "/people", token, page_size=1000).status_code == 422


def test_restricted_fields_reach_only_the_person_and_administrators(corp, client, token_of):
    carol = login_of("carol")
    alice_id = Profile.objects.get(username="alice").pk
    bob_view = get(client, f"/people/{alice_id}", token_of("bob")).json()
    assert "emergency" not in {f["key"] for f in bob_view["fields"]}
    listed = get(client, "/people", token_of("bob"), q="alice").json()["people"][0]
    assert "emergency" not in listed["fields"]
    set_role(carol, Role.ADMINISTRATOR)
    admin_view = get(client, f"/people/{alice_id}", token_of("carol")).json()
    emergency = {f["key"]: f for f in admin_view["fields"]}["emergency"]
    assert emergency["value"] == "call alice's mum"
    assert emergency["restricted"]  # says who sees it
    own = get(client, "/people/me", token_of("alice")).json()
    assert own["id"] == alice_id
    assert "emergency" in {f["key"] for f in own["fields"]}


def test_deactivated_people_exist_only_for_administrators(corp, client, token_of):
    login_of("bob")
    carol = login_of("carol")
    set_role(carol, Role.ADMINISTRATOR)
    Profile.objects.filter(username="alice").update(active=False)
    alice_id = Profile.objects.get(username="alice").pk
    bob_token, carol_token = token_of("bob"), token_of("carol")
    assert get(client, f"/people/{alice_id}", bob_token).status_code == 404
    asked = get(client, "/people", bob_token, q="alice", include_inactive="true").json()
    assert asked["people"] == []
    seen = get(client, "/people", carol_token, q="alice", include_inactive="true").json()
    assert [p["active"] for p in seen["people"]] == [False]
    assert get(client, f"/people/{alice_id}", carol_token).status_code == 200


def test_a_revoked_token_or_a_deactivated_login_stops_working(corp, client, token_of):
    bob = login_of("bob")
    token = token_of("bob")
    assert get(client, "/people", token).status_code == 200
    listed = token_command("list", "bob")
    assert token[:10] in listed and token not in listed
    with pytest.raises(CommandError, match="prefix: no token"):
        token_command("revoke", "bob", "psk_nothing")
    assert "revoked 1 token" in token_command("revoke", "bob", token[:10])
    assert get(client, "/people", token).status_code == 401
    second = token_of("bob")
    get_user_model().objects.filter(pk=bob.pk).update(is_active=False)
    assert get(client, "/people", second).status_code == 401


def test_a_browser_session_works_without_a_token(corp, client):
    client.force_login(login_of("bob"))
    answer = get(client, "/people", q="Engineer")
    assert sorted(p["username"] for p in answer.json()["people"]) == ["alice", "carol"]


def test_sync_runs_are_for_system_administrators(corp, client, token_of):
    bob = login_of("bob")
    assert get(client, "/sync/runs", token_of("bob")).status_code == 403
    set_role(bob, Role.SYSTEM_ADMINISTRATOR)
    token = token_of("bob")
    runs = get(client, "/sync/runs", token).json()
    assert runs[0]["status"] == "succeeded"
    assert runs[0]["directories"]["corp"]["created"] == 3
    one = get(client, f"/sync/runs/{runs[0]['run']}", token).json()
    assert one["run"] == runs[0]["run"]
    queued = client.post("/api/v1/sync/runs", headers={"Authorization": f"Bearer {token}"})
    assert queued.status_code == 202 and queued.json()["task"]


def test_the_openapi_document_describes_the_endpoints(corp, client):
    document = client.get("/api/v1/openapi.json").json()
    assert {"/api/v1/people", "/api/v1/people/{person_id}", "/api/v1/fields",
            "/api/v1/sync/runs"} <= set(document["paths"])
    assert "bearer" in str(document["components"]["securitySchemes"]).lower()


def test_fields_list_what_the_people_answers_use(corp, client, token_of):
    login_of("bob")
    listed = {f["key"]: f for f in get(client, "/fields", token_of("bob")).json()}
    assert listed["team"]["filterable"] and not listed["team"]["searchable"]
    assert listed["display_name"]["label"]


def patch_me(client, token: str, body: dict):
    return client.patch("/api/v1/people/me", body, content_type="application/json",
                        headers={"Authorization": f"Bearer {token}"})


def test_a_person_changes_their_own_fields_and_bad_values_name_the_field(
        corp, client, token_of):
    create_field("skills", {"label": "Skills", "type": "multiselect", "options": "Python,LDAP"})
    token = token_of("bob")
    saved = patch_me(client, token, {"values": {"team": "Red", "skills": ["LDAP"]}})
    assert saved.status_code == 200, saved.json()
    assert saved.json()["saved"] == ["skills", "team"]
    bob = Profile.objects.get(username="bob")
    assert bob.local_values["team"] == "Red" and bob.local_values["skills"] == ["LDAP"]
    assert bob.local_values["emergency"] == "call bob's mum"  # left out, kept
    reds = get(client, "/people", token, filter="team=Red").json()["people"]
    assert "bob" in [p["username"] for p in reds]  # the search sees the change at once

    invalid = patch_me(client, token, {"values": {"team": "Green"}})
    assert invalid.status_code == 422 and "team" in invalid.json()["errors"]
    locked = patch_me(client, token, {"values": {"title": "Boss"}})
    assert locked.status_code == 422
    assert locked.json()["detail"].startswith("values.title: ")
    assert "directory" in locked.json()["detail"]
    unknown = patch_me(client, token, {"values": {"shoe": "42"}})
    assert unknown.status_code == 422 and "values.shoe" in unknown.json()["detail"]
    assert Profile.objects.get(username="bob").local_values["team"] == "Red"


def test_an_api_edit_writes_back_and_reports_a_directory_conflict(
        acl_directory, acl_server, client, token_of):
    """Write-back through the API: the value reaches the directory; a value changed in the
    directory since the client read it is a 409 with both values, and nothing is overwritten."""
    from profilesync.profiles.services import update_field
    from profilesync.sync.datasources import set_setting

    run_sync([acl_directory])
    set_setting("writeback_enabled", "on")
    update_field(ProfileField.objects.get(key="phone"), {"write_back": True})
    token = token_of("ann")
    seen = Profile.objects.get(username="ann").values["phone"]

    written = patch_me(client, token, {"values": {"phone": "+49 30 2222"}, "seen": {"phone": seen}})
    assert written.status_code == 200, written.json()
    assert written.json()["written"] == ["phone"]
    ann_dn = "uid=ann,ou=people,dc=example,dc=org"
    acl_server.modify(ann_dn, {"telephoneNumber": ["+49 30 9999"]})

    stale = patch_me(client, token, {"values": {"phone": "+49 30 3333"},
                                     "seen": {"phone": "+49 30 2222"}})
    assert stale.status_code == 409
    assert stale.json()["conflicts"]["phone"] == {"yours": "+49 30 3333",
                                                  "directory": "+49 30 9999"}
    from profilesync.ldapclient.connection import connected
    from profilesync.ldapclient.modify import read_values
    with connected(acl_directory.connection_settings()) as conn:
        assert read_values(conn, ann_dn, "telephoneNumber") == [b"+49 30 9999"]
