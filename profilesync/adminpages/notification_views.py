"""Notifications (System Administrators): who is told about incidents, "Send a test",
and the incidents open now. Every change goes through ``monitoring.recipients``,
the service ``profilesync alerts`` uses."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from profilesync.accounts.permissions import RUN_SYNC
from profilesync.errors import InvalidSetting
from profilesync.monitoring import recipients
from profilesync.monitoring.delivery import send_test
from profilesync.monitoring.models import Incident

from .access import admin_page

# Who is told about the installation's incidents is operations, like the sync report and
# the scheduled jobs: System Administrators.
NOTIFICATIONS = RUN_SYNC

RECENT_INCIDENTS = 20


class MailForm(forms.Form):
    mail = forms.CharField(max_length=254, label="Mail address",
                           help_text="Alerts go out through the mail server in PROFILESYNC_EMAIL_HOST.")


class WebhookForm(forms.Form):
    webhook = forms.CharField(max_length=2000, label="Webhook URL",
                              help_text="Alerts are POSTed as JSON, signed with HMAC-SHA256 "
                              "(header X-Profilesync-Signature).")
    secret = forms.CharField(required=False, label="Signing secret",
                             widget=forms.PasswordInput(render_value=False),
                             help_text="At least 16 characters; leave empty and one is made and "
                             "shown once.")


def _page(request: HttpRequest, *, mail_form: MailForm | None = None,
          webhook_form: WebhookForm | None = None, generated_secret: str | None = None,
          test_results: list | None = None, status: int = 200) -> HttpResponse:
    rows = [(r, recipients.shown_target(r)) for r in recipients.all_recipients()]
    return render(request, "monitoring/notifications.html", {
        "rows": rows,
        "mail_form": mail_form or MailForm(prefix="mail"),
        "webhook_form": webhook_form or WebhookForm(prefix="webhook"),
        "generated_secret": generated_secret,
        "test_results": test_results,
        "open_incidents": Incident.objects.filter(resolved_at__isnull=True).order_by("-opened_at"),
        "resolved_incidents": (Incident.objects.filter(resolved_at__isnull=False)
                               .order_by("-resolved_at")[:RECENT_INCIDENTS]),
    }, status=status)


@admin_page(NOTIFICATIONS)
def notifications(request: HttpRequest) -> HttpResponse:
    return _page(request)


@admin_page(NOTIFICATIONS)
@require_POST
def add_mail(request: HttpRequest) -> HttpResponse:
    form = MailForm(request.POST, prefix="mail")
    if form.is_valid():
        try:
            recipient = recipients.add_mail(form.cleaned_data["mail"])
        except InvalidSetting as exc:
            form.add_error("mail", exc.message)
        else:
            messages.success(request, f"{recipient.target} will be told about incidents.")
            return redirect("admin-notifications")
    return _page(request, mail_form=form, status=400)


@admin_page(NOTIFICATIONS)
@require_POST
def add_webhook(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST, prefix="webhook")
    if form.is_valid():
        try:
            added = recipients.add_webhook(form.cleaned_data["webhook"], form.cleaned_data["secret"])
        except InvalidSetting as exc:
            form.add_error("secret" if exc.setting == "secret" else "webhook", exc.message)
        else:
            shown = recipients.shown_target(added.recipient)
            if added.generated_secret:
                # Shown on this answer only, never through the session or a redirect.
                messages.success(request, f"Webhook {shown} added.")
                return _page(request, generated_secret=added.generated_secret)
            messages.success(request, f"Webhook {shown} added.")
            return redirect("admin-notifications")
    return _page(request, webhook_form=form, status=400)


@admin_page(NOTIFICATIONS)
@require_POST
def remove_recipient(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        removed = recipients.remove(pk)
    except InvalidSetting as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{recipients.shown_target(removed)} removed; it is told nothing more.")
    return redirect("admin-notifications")


@admin_page(NOTIFICATIONS)
@require_POST
def send_test_alert(request: HttpRequest) -> HttpResponse:
    if not recipients.all_recipients():
        messages.error(request, "No recipient to test: add a mail address or a webhook first.")
        return redirect("admin-notifications")
    return _page(request, test_results=send_test())


urlpatterns = [
    path("", notifications, name="admin-notifications"),
    path("mail", add_mail, name="admin-notifications-mail"),
    path("webhook", add_webhook, name="admin-notifications-webhook"),
    path("<int:pk>/remove", remove_recipient, name="admin-notifications-remove"),
    path("test", send_test_alert, name="admin-notifications-test"),
]
