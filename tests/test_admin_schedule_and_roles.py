"""The scheduled jobs page and the people and roles page."""

from __future__ import annotations

import pytest
from django.test import override_settings

from profilesync.accounts.role_changes import change_role
from profilesync.accounts.roles import Role, role_of, set_role
from profilesync.errors import InvalidSetting
from profilesync.scheduling.jobs import BULK_PROFILE_UPDATE, LDAP_RECONCILIATION
from profilesync.scheduling.schedules import schedule_of

pytestmark = pytest.mark.django_db


def make_user(django_user_model, name: str, role: Role):
    user = django_user_model.objects.create_user(name, password="pw-5-ok")
    set_role(user, role)
    return user


@pytest.fixture
def system_admin(client, django_user_model):
    client.force_login(make_user(django_user_model, "root-1", Role.SYSTEM_ADMINISTRATOR))
    return client


# -- scheduled jobs ----------------------------------------------------------

def test_page_shows_both_sync_schedules_and_links(system_admin):
    page = system_admin.get("/admin/schedule/").content.decode()

    assert BULK_PROFILE_UPDATE.title in page and LDAP_RECONCILIATION.title in page
    assert 'value="0 */3 * * *"' in page
    assert 'href="/admin/sync/"' in page and 'href="/admin/data-sources/"' in page


def test_a_valid_expression_is_saved(system_admin):
    response = system_admin.post("/admin/schedule/bulk_profile_update/",
                                 {"bulk_profile_update-cron": "15 */2 * * mon-fri"}, follow=True)

    assert schedule_of(BULK_PROFILE_UPDATE).cron == "15 */2 * * mon-fri"
    assert "schedule set to 15 */2 * * mon-fri" in response.content.decode()


def test_an_invalid_expression_is_refused_at_its_field(system_admin):
    """The message names the part at fault, as `profilesync schedule set` does; the other
    job's form is untouched and nothing is stored."""
    response = system_admin.post("/admin/schedule/bulk_profile_update/",
                                 {"bulk_profile_update-cron": "0 25 * * *"})

    (panel, other, *_rest) = response.context["panels"]
    assert panel.form.errors["cron"] == [
        "hour: 25 is out of range 0-23 in '0 25 * * *'; for example "
        '"0 */3 * * *" (minute 0 of every third hour)']
    assert not other.form.errors
    assert schedule_of(BULK_PROFILE_UPDATE).cron == "0 */3 * * *"
    assert "hour: 25 is out of range 0-23" in response.content.decode()


@override_settings(TIME_ZONE="Europe/Vienna")
def test_next_due_times_are_shown_in_the_configured_time_zone(system_admin):
    """02:30 every day is shown as 02:30 local time (CET/CEST), not as UTC."""
    system_admin.post("/admin/schedule/ldap_reconciliation/",
                      {"ldap_reconciliation-cron": "30 2 * * *"})

    response = system_admin.get("/admin/schedule/")

    panel = next(p for p in response.context["panels"] if p.job == LDAP_RECONCILIATION)
    assert len(panel.next_times) == 5
    assert all((t.hour, t.minute) == (2, 30) for t in panel.next_times)
    page = response.content.decode()
    assert "Europe/Vienna" in page
    assert " 02:30 CE" in page


def test_run_now_queues_the_job_for_a_worker(system_admin):
    from django_tasks_db.models import DBTaskResult

    response = system_admin.post("/admin/schedule/bulk_profile_update/run", follow=True)
    system_admin.post("/admin/schedule/ldap_reconciliation/run")

    assert "queued" in response.content.decode()
    tasks = {t.task_path.rsplit(".", 1)[1]: t.args_kwargs["kwargs"]["trigger"]
             for t in DBTaskResult.objects.all()}
    assert tasks == {"bulk_profile_update": "manual", "ldap_reconciliation": "manual"}


def test_unknown_job_is_not_found(system_admin):
    assert system_admin.post("/admin/schedule/nothing/run").status_code == 404


# -- people and roles ----------------------------------------------------------

def test_list_shows_local_and_directory_logins_with_their_role(system_admin, subtree,
                                                                make_directory):
    """Directory users (after their first login) show their directory; local ones say so."""
    from profilesync.accounts.backends import user_for_profile
    from profilesync.profiles.models import Profile
    from profilesync.sync.runner import run_sync

    subtree.add_person("alice", displayName="Alice Archer")
    run_sync([make_directory(subtree)], mode="full")
    user_for_profile(Profile.objects.get(username="alice"))

    page = system_admin.get("/admin/people/").content.decode()

    assert "alice" in page and "Alice Archer" in page and "corp" in page
    assert "root-1" in page and "local account" in page


def test_system_administrator_changes_any_role(system_admin, django_user_model):
    bob = make_user(django_user_model, "bob", Role.USER)

    system_admin.post(f"/admin/people/{bob.pk}/role", {"role": "system-administrator"})

    bob.refresh_from_db()
    assert role_of(bob) == Role.SYSTEM_ADMINISTRATOR


def test_administrator_makes_administrators_but_never_system_administrators(
        client, django_user_model):
    admin = make_user(django_user_model, "admin-1", Role.ADMINISTRATOR)
    bob = make_user(django_user_model, "bob", Role.USER)
    root = make_user(django_user_model, "root-2", Role.SYSTEM_ADMINISTRATOR)
    client.force_login(admin)

    page = client.get("/admin/people/").content.decode()
    client.post(f"/admin/people/{bob.pk}/role", {"role": "administrator"})
    refused = client.post(f"/admin/people/{bob.pk}/role", {"role": "system-administrator"})
    demote = client.post(f"/admin/people/{root.pk}/role", {"role": "user"})

    bob.refresh_from_db()
    root.refresh_from_db()
    assert role_of(bob) == Role.ADMINISTRATOR
    assert role_of(root) == Role.SYSTEM_ADMINISTRATOR
    assert 'value="system-administrator"' not in page
    assert "only a System Administrator can make someone a System Administrator" in \
        refused.content.decode()
    assert "only a System Administrator" in demote.content.decode()


def test_the_last_system_administrator_cannot_be_demoted(django_user_model):
    root = make_user(django_user_model, "root-3", Role.SYSTEM_ADMINISTRATOR)

    with pytest.raises(InvalidSetting, match="last System Administrator"):
        change_role(root, Role.ADMINISTRATOR, by=root)
    other = make_user(django_user_model, "root-4", Role.SYSTEM_ADMINISTRATOR)
    change_role(root, Role.ADMINISTRATOR, by=other)

    root.refresh_from_db()
    assert role_of(root) == Role.ADMINISTRATOR


def test_a_refused_role_change_is_shown_at_that_row(system_admin, django_user_model):
    root = django_user_model.objects.get(username="root-1")

    response = system_admin.post(f"/admin/people/{root.pk}/role", {"role": "user"})

    page = response.content.decode()
    assert f'id="role-error-{root.pk}"' in page and "last System Administrator" in page
