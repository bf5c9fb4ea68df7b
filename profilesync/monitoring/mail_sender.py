"""Alert mail through Django's mail backend (SMTP settings from ``PROFILESYNC_EMAIL_*``).

One message per address, so one unreachable or refusing mailbox does not hide
the alert from the others, and each address's delivery is recorded on its own.
"""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from .messages import Alert

log = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """A recipient could not be reached; the message says why (never a secret)."""


def send_mail_alert(alert: Alert, address: str) -> None:
    message = EmailMessage(subject=alert.subject, body=alert.text(),
                           from_email=settings.DEFAULT_FROM_EMAIL, to=[address],
                           connection=get_connection(fail_silently=False))
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("alert mail not delivered to=%s event=%s rule=%s directory=%s error=%s",
                    address, alert.event, alert.rule, alert.directory, exc)
        raise DeliveryFailed(f"mail to {address} failed: {type(exc).__name__}: {exc}") from exc
    log.info("alert mail sent to=%s event=%s rule=%s directory=%s", address, alert.event,
             alert.rule, alert.directory)
