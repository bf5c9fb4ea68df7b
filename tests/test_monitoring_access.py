"""Only System Administrators reach the Notifications page and its forms; the rest change nothing."""

from __future__ import annotations

import pytest
from django.test import Client

from profilesync.accounts.roles import Role, set_role
from profilesync.monitoring.models import AlertRecipient
from profilesync.monitoring.recipients import add_mail

pytestmark = pytest.mark.django_db


def pages(recipient_id: int) -> list[tuple[str, str, dict]]:
    return [("get", "/admin/notifications/", {}),
            ("post", "/admin/notifications/mail", {"mail-mail": "evil@example.org"}),
            ("post", "/admin/notifications/webhook", {"webhook-webhook": "https://evil.example.org/x"}),
            ("post", f"/admin/notifications/{recipient_id}/remove", {}),
            ("post", "/admin/notifications/test", {})]


@pytest.mark.parametrize("role", [None, Role.USER, Role.ADMINISTRATOR])
def test_everyone_but_system_administrators_is_refused(role, django_user_model, fresh_install):
    kept = add_mail("ops@example.org")
    client = Client()
    if role is not None:
        user = django_user_model.objects.create_user(f"{role.value}-n", password="pw-1-ok")
        set_role(user, role)
        client.force_login(user)

    answers = [getattr(client, method)(url, data).status_code for method, url, data in pages(kept.pk)]

    assert answers == [302 if role is None else 403] * 5
    assert list(AlertRecipient.objects.values_list("target", flat=True)) == ["ops@example.org"]


def test_forms_need_the_csrf_token(django_user_model, fresh_install):
    user = django_user_model.objects.create_user("sys-n", password="pw-1-ok")
    set_role(user, Role.SYSTEM_ADMINISTRATOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    page = client.get("/admin/notifications/")
    forged = client.post("/admin/notifications/mail", {"mail-mail": "ops@example.org"})
    assert page.status_code == 200 and forged.status_code == 403
    assert not AlertRecipient.objects.exists()
