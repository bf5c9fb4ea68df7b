"""Who is told about incidents: the one service behind ``profilesync alerts`` and the
Notifications page, so both refuse the same input with the same words.

A webhook URL is shown shortened (``https://hooks.example.com/services/…``):
chat services put their access token in the path, and a shown URL is a leaked
token. Its signing secret is stored encrypted and never shown again.
"""

from __future__ import annotations

import secrets as random_secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction

from profilesync.directories.secrets import decrypt_secret, encrypt_secret
from profilesync.errors import InvalidSetting

from .models import AlertRecipient, RecipientKind

MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class NewWebhook:
    recipient: AlertRecipient
    generated_secret: str | None  # set when profilesync made the secret: shown once


def shown_target(recipient: AlertRecipient) -> str:
    if recipient.kind == RecipientKind.MAIL:
        return recipient.target
    return redacted_url(recipient.target)


def redacted_url(url: str) -> str:
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    path = f"/{segments[0]}/…" if len(segments) > 1 else parts.path
    return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}{path}"


def add_mail(address: str) -> AlertRecipient:
    address = (address or "").strip()
    try:
        validate_email(address)
    except ValidationError:
        raise InvalidSetting("mail", f"{address!r} is not a mail address; give one like "
                             "ops@example.com") from None
    return _create(RecipientKind.MAIL, address, "", "mail")


def add_webhook(url: str, secret: str | None = None) -> NewWebhook:
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise InvalidSetting("webhook", f"{redacted_url(url) if '://' in url else url!r} is not an "
                             "http:// or https:// URL; give one like "
                             "https://alerts.example.com/profilesync") from None
    generated = None
    if secret is None or not secret.strip():
        generated = secret = random_secrets.token_urlsafe(32)
    secret = secret.strip()
    if len(secret) < MIN_SECRET_LENGTH:
        raise InvalidSetting("secret", f"the webhook secret has {len(secret)} characters; use at "
                             f"least {MIN_SECRET_LENGTH} (random), or leave it out and one is made")
    recipient = _create(RecipientKind.WEBHOOK, url, encrypt_secret(secret), "webhook")
    return NewWebhook(recipient, generated)


def _create(kind: str, target: str, secret: str, setting: str) -> AlertRecipient:
    try:
        with transaction.atomic():
            return AlertRecipient.objects.create(kind=kind, target=target, secret=secret)
    except IntegrityError:
        raise InvalidSetting(setting, f"{redacted_url(target) if kind == 'webhook' else target} is "
                             "already a recipient") from None


def remove(recipient_id: int | str) -> AlertRecipient:
    try:
        recipient = AlertRecipient.objects.get(pk=int(recipient_id))
    except (ValueError, AlertRecipient.DoesNotExist):
        raise InvalidSetting("id", f"no alert recipient {recipient_id}; `profilesync alerts list` "
                             "shows their ids") from None
    recipient.delete()
    return recipient


def all_recipients() -> list[AlertRecipient]:
    return list(AlertRecipient.objects.order_by("id"))


def webhook_secret(recipient: AlertRecipient) -> str:
    return decrypt_secret(recipient.secret)
