"""The Notifications page in a real browser: add recipients, refuse bad ones at the field,
"Send a test" to a real SMTP server and a real webhook receiver, remove."""

from __future__ import annotations

import pytest
from django.test import override_settings

from profilesync.accounts.roles import Role
from profilesync.monitoring.models import AlertRecipient
from profilesync.monitoring.recipients import webhook_secret
from profilesync.testing.browser_login import login_maker
from profilesync.testing.monitoring_servers import SmtpServer, WebhookReceiver

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-notify-ok-1"


@pytest.fixture
def make_login(django_user_model):
    return login_maker(django_user_model, PASSWORD)


def test_system_administrator_sets_recipients_and_sends_a_test(page, live_server, log_in, make_login,
                                                              fresh_install, screenshot_dir):
    make_login("sysadmin-n", Role.SYSTEM_ADMINISTRATOR)
    with SmtpServer() as smtp, WebhookReceiver() as receiver, override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp.port):
        log_in(page, live_server, "sysadmin-n", PASSWORD)
        page.click("header >> text=Notifications")
        empty = page.text_content("#recipients")

        page.fill("#id_mail-mail", "not an address")
        page.click("button:has-text('Add mail address')")
        refused = page.text_content("#row-mail-mail")
        page.fill("#id_mail-mail", "ops@example.org")
        page.click("button:has-text('Add mail address')")
        page.fill("#id_webhook-webhook", receiver.url)
        page.click("button:has-text('Add webhook')")
        secret = page.text_content("#secret-value").strip()
        page.screenshot(path=str(screenshot_dir / "notifications.png"), full_page=True)
        page.click("#send-test")
        results = page.text_content("#test-results")

    assert "Nobody is told about incidents yet" in empty
    assert "is not a mail address" in refused
    assert webhook_secret(AlertRecipient.objects.get(kind="webhook")) == secret
    assert smtp.subjects() == ["[profilesync] TEST: Test alert"]
    assert len(receiver.posts) == 1 and receiver.posts[0].signed_with(secret)
    assert results.count("Reached") == 2 and "Not reached" not in results
    assert "/hooks/…" in page.text_content("#recipients")
    assert receiver.url not in page.content()  # the path may hold a chat service's token

    page.click("button[aria-label='Remove ops@example.org']")
    assert "ops@example.org" not in page.text_content("#recipients")
    assert list(AlertRecipient.objects.values_list("kind", flat=True)) == ["webhook"]


def test_an_administrator_cannot_open_notifications(page, live_server, log_in, make_login,
                                                    fresh_install):
    make_login("admin-n", Role.ADMINISTRATOR)
    log_in(page, live_server, "admin-n", PASSWORD)
    response = page.goto(f"{live_server.url}/admin/notifications/")
    assert response.status == 403
    assert "Notifications" not in page.text_content("header")
