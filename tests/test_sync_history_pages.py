"""Change history and the sync preview on the pages: the run's detail page (paged, filtered),
the profile's History section (the person and administrators only), and "Preview"."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from profilesync.accounts.backends import user_for_profile
from profilesync.accounts.roles import Role, set_role
from profilesync.profiles.models import Profile
from profilesync.sync.models import PersonChange, RunStatus, SyncPreview
from profilesync.sync.preview_task import run_preview
from profilesync.sync.runner import run_sync
from profilesync.writeback.models import WriteResultKind
from profilesync.writeback.service import audit

pytestmark = pytest.mark.django_db


def client_as(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def csrf_post(client: Client, url: str, data: dict | None = None, form_page: str = "/admin/sync/"):
    page = client.get(form_page)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": token.group(1)})


def make_user(name: str, role: Role):
    user = get_user_model().objects.create_user(name, password="pw-not-secret-1")
    set_role(user, role)
    return user


@pytest.fixture
def changed(subtree, make_directory):
    """60 people synced, then 55 retitled and one deleted: a run with 56 changes."""
    people = subtree.add_people(60)
    directory = make_directory(subtree)
    run_sync([directory], mode="full")
    for dn in people[:55]:
        subtree.modify(dn, title="Lead")
    subtree.delete(people[59])
    return run_sync([directory], mode="full")


def rows(html: str) -> list[str]:
    return re.findall(r'<td rowspan="\d+">(user\d+) ', html)


def test_run_detail_pages_and_filters_the_changes(changed):
    admin = client_as(make_user("sysadmin", Role.SYSTEM_ADMINISTRATOR))
    url = f"/admin/sync/{changed.run.pk}/"

    first = admin.get(url).content.decode()
    assert len(rows(first)) == 50 and "page 1 of 2 (56 people)" in first
    assert "Engineer" in first and "Lead" in first
    second = admin.get(url, {"page": 2}).content.decode()
    assert len(rows(second)) == 6
    gone = admin.get(url, {"action": "deactivate"}).content.decode()
    assert rows(gone) == ["user059"]
    by_field = admin.get(url, {"field": "title", "page": 2}).content.decode()
    assert len(rows(by_field)) == 5 and "user059" not in by_field
    nothing = admin.get(url, {"action": "create"}).content.decode()
    assert "No change matches the filter." in nothing
    # A filter value that is not an action or a field is ignored, never put in a query.
    assert len(rows(admin.get(url, {"field": "x') OR 1=1"}).content.decode())) == 50


def test_run_detail_is_for_system_administrators_only(changed):
    administrator = client_as(make_user("fieldadmin", Role.ADMINISTRATOR))
    assert administrator.get(f"/admin/sync/{changed.run.pk}/").status_code == 403


def test_history_section_shows_to_the_person_and_administrators_only(subtree, make_directory):
    ann_dn = subtree.add_person("ann", title="Engineer")
    subtree.add_person("ben", title="Engineer")
    directory = make_directory(subtree)
    run_sync([directory], mode="full")
    subtree.modify(ann_dn, title="Team Lead")
    run_sync([directory], mode="full")
    ann, ben = Profile.objects.get(username="ann"), Profile.objects.get(username="ben")
    audit(ann, "ann", "telephoneNumber", "phone", [], [b"+49 30 1"], WriteResultKind.PENDING,
          message="directory unreachable")
    url = f"/people/{ann.pk}/"

    own = client_as(user_for_profile(ann)).get(url).content.decode()
    assert "History" in own
    assert "Engineer" in own and "telephoneNumber" in own and "pending: directory unreachable" in own
    admin = client_as(make_user("admin", Role.ADMINISTRATOR)).get(url).content.decode()
    assert "History" in admin and "Team Lead" in admin
    colleague = client_as(user_for_profile(ben)).get(url).content.decode()
    assert 'id="history-heading"' not in colleague and "telephoneNumber" not in colleague
    edits = client_as(user_for_profile(ann)).get(url, {"history_action": "edit"}).content.decode()
    assert "telephoneNumber" in edits and "Engineer" not in edits


def test_preview_runs_in_the_worker_then_shows_who_would_change(subtree, make_directory):
    people = subtree.add_people(10)
    directory = make_directory(subtree, max_deactivate_percent=20, deactivation_floor=0)
    run_sync([directory], mode="full")
    subtree.modify(people[0], title="Lead")
    for dn in people[1:4]:
        subtree.delete(dn)
    admin = client_as(make_user("sysadmin", Role.SYSTEM_ADMINISTRATOR))
    assert b"Preview" in admin.get("/admin/sync/").content

    response = csrf_post(admin, "/admin/sync/preview")

    preview = SyncPreview.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/sync/preview/{preview.pk}/"
    waiting = admin.get(response["Location"]).content.decode()
    assert "Waiting for a worker" in waiting and 'http-equiv="refresh"' in waiting
    before = list(Profile.objects.order_by("pk").values())
    run_preview.call(preview_id=preview.pk)  # what the worker runs
    assert list(Profile.objects.order_by("pk").values()) == before
    assert not PersonChange.objects.filter(run__trigger="dry-run").exists()

    page = admin.get(f"/admin/sync/preview/{preview.pk}/").content.decode()
    assert "tripped" in page and "past the deactivation limit" in page
    assert re.search(r'name="force" checked', page)
    assert rows(page) == ["user000", "user001", "user002", "user003"]
    only_gone = admin.get(f"/admin/sync/preview/{preview.pk}/", {"action": "deactivate"})
    assert rows(only_gone.content.decode()) == ["user001", "user002", "user003"]
    assert SyncPreview.objects.get().status == RunStatus.SUCCEEDED


def test_preview_is_for_system_administrators_only(make_directory):
    administrator = client_as(make_user("fieldadmin", Role.ADMINISTRATOR))
    assert csrf_post(administrator, "/admin/sync/preview",
                     form_page="/admin/fields/").status_code == 403
    assert not SyncPreview.objects.exists()
