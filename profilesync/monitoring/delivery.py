"""Sending one alert to one recipient, whichever way it is reached."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from profilesync.directories.secrets import SecretUnreadable

from .mail_sender import DeliveryFailed, send_mail_alert
from .messages import Alert, test_alert
from .models import AlertRecipient, RecipientKind
from .recipients import all_recipients, shown_target, webhook_secret
from .webhook_sender import send_webhook_alert


@dataclass(frozen=True)
class DeliveryResult:
    recipient_id: int
    kind: str
    target: str  # as shown
    ok: bool
    detail: str

    def as_json(self) -> dict:
        return {"id": self.recipient_id, "kind": self.kind, "target": self.target, "ok": self.ok,
                "detail": self.detail}


def deliver(alert: Alert, recipient: AlertRecipient, *, attempts: int | None = None) -> DeliveryResult:
    try:
        if recipient.kind == RecipientKind.MAIL:
            send_mail_alert(alert, recipient.target)
            detail = "mail accepted by the mail server"
        else:
            took = send_webhook_alert(alert, recipient.target, webhook_secret(recipient),
                                      attempts=attempts)
            detail = f"delivered (attempt {took})"
    except DeliveryFailed as exc:
        return DeliveryResult(recipient.pk, recipient.kind, shown_target(recipient), False, str(exc))
    except SecretUnreadable:
        return DeliveryResult(recipient.pk, recipient.kind, shown_target(recipient), False,
                              "the webhook's secret cannot be decrypted (the secret key changed?); "
                              "remove the webhook and add it again")
    return DeliveryResult(recipient.pk, recipient.kind, shown_target(recipient), True, detail)


def send_test(recipients: list[AlertRecipient] | None = None) -> list[DeliveryResult]:
    """"Send a test": a test alert to every recipient (or the given ones), with each outcome.

    One attempt per webhook: a test reports what the receiver answers now.
    """
    alert = test_alert(timezone.now())
    return [deliver(alert, recipient, attempts=1) for recipient in (recipients or all_recipients())]
