"""Alert webhooks: a JSON POST signed with HMAC-SHA256, retried with backoff.

The receiver checks ``X-Profilesync-Signature: sha256=<hex>``, the HMAC-SHA256
of ``<timestamp>.<body>`` with the shared secret, where ``<timestamp>`` is the
``X-Profilesync-Timestamp`` header (Unix seconds): signing the time as well
lets a receiver refuse an old delivery replayed later. ``X-Profilesync-Delivery``
is the same for every attempt of one delivery, so a receiver can ignore a
repeat it already handled.

A 2xx answer is success. A 5xx, 429, timeout or refused connection is tried
again after ``PROFILESYNC_WEBHOOK_BACKOFF_SECONDS``, doubled each time, up to
``PROFILESYNC_WEBHOOK_ATTEMPTS``; another 4xx is final (the receiver refuses it,
repeating will not help). Redirects are not followed: a signed alert goes only
where it was sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable

from django.conf import settings

from .mail_sender import DeliveryFailed
from .messages import Alert
from .recipients import redacted_url

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Profilesync-Signature"
TIMESTAMP_HEADER = "X-Profilesync-Timestamp"
DELIVERY_HEADER = "X-Profilesync-Delivery"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def send_webhook_alert(alert: Alert, url: str, secret: str, *, attempts: int | None = None,
                       sleep: Callable[[float], None] = time.sleep) -> int:
    """POST the alert; return the attempts it took, or raise ``DeliveryFailed``.

    ``attempts`` None is ``PROFILESYNC_WEBHOOK_ATTEMPTS``; "Send a test" makes one, so
    the page answers at once with what the receiver said.
    """
    body = json.dumps(alert.payload(), sort_keys=True).encode()
    delivery = str(uuid.uuid4())
    attempts = max(attempts or settings.PROFILESYNC_WEBHOOK_ATTEMPTS, 1)
    wait = settings.PROFILESYNC_WEBHOOK_BACKOFF_SECONDS
    problem = ""
    for attempt in range(1, attempts + 1):
        timestamp = str(int(time.time()))
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "profilesync-alerts",
            SIGNATURE_HEADER: signature(secret, timestamp, body), TIMESTAMP_HEADER: timestamp,
            DELIVERY_HEADER: delivery})
        try:
            with _opener.open(request, timeout=settings.PROFILESYNC_WEBHOOK_TIMEOUT_SECONDS) as answer:
                status = answer.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        except (urllib.error.URLError, OSError) as exc:
            status = None
            problem = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if status is not None and 200 <= status < 300:
            log.info("alert webhook delivered url=%s event=%s rule=%s directory=%s attempts=%s",
                     redacted_url(url), alert.event, alert.rule, alert.directory, attempt)
            return attempt
        if status is not None:
            problem = f"answered HTTP {status}"
            if 400 <= status < 500 and status not in (408, 429):
                break
        log.warning("alert webhook attempt failed url=%s attempt=%s error=%s", redacted_url(url),
                    attempt, problem)
        if attempt < attempts:
            sleep(wait)
            wait *= 2
    raise DeliveryFailed(f"webhook {redacted_url(url)} {problem} (after {attempt} attempt(s))")
