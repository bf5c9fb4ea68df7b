"""Incidents: a condition that appears opens one, its disappearance resolves it; each is told once.

``evaluate`` compares the conditions true now (``rules``) with the open
incidents: a new key opens an incident, a key no longer present resolves its
incident. Nothing else is sent, however often the rules are evaluated: an
operator gets one alert when something breaks and one when it is mended, never
a stream. Deliveries are recorded per recipient on the incident, so a recipient
that was unreachable is tried again at the next evaluation while those already
told are not told twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from .delivery import DeliveryResult, deliver
from .messages import alert_for
from .models import AlertRecipient, Incident
from .rules import current_conditions

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    opened: list[Incident] = field(default_factory=list)
    resolved: list[Incident] = field(default_factory=list)
    deliveries: list[DeliveryResult] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"opened": [i.key for i in self.opened], "resolved": [i.key for i in self.resolved],
                "deliveries": [d.as_json() for d in self.deliveries]}


def evaluate(now: datetime | None = None) -> Evaluation:
    now = now or timezone.now()
    result = Evaluation()
    conditions = {condition.key: condition for condition in current_conditions(now)}
    open_incidents = {incident.key: incident
                      for incident in Incident.objects.filter(resolved_at__isnull=True)}
    for key, condition in conditions.items():
        if key in open_incidents:
            continue
        try:
            with transaction.atomic():
                incident = Incident.objects.create(
                    key=key, rule=condition.rule, directory_name=condition.directory,
                    cause=condition.cause, page=condition.page, details=condition.details,
                    opened_at=now)
        except IntegrityError:
            continue  # another evaluation opened it a moment ago
        log.warning("alert incident opened incident=%s rule=%s directory=%s cause=%s",
                    incident.pk, incident.rule, incident.directory_name, incident.cause)
        result.opened.append(incident)
    for key, incident in open_incidents.items():
        if key in conditions:
            continue
        if Incident.objects.filter(pk=incident.pk, resolved_at__isnull=True).update(resolved_at=now):
            incident.resolved_at = now
            log.warning("alert incident resolved incident=%s rule=%s directory=%s",
                        incident.pk, incident.rule, incident.directory_name)
            result.resolved.append(incident)
    result.deliveries = deliver_untold(now)
    return result


def deliver_untold(now: datetime) -> list[DeliveryResult]:
    """Tell each recipient what it has not been told yet: openings, then resolutions."""
    recipients = {r.pk: r for r in AlertRecipient.objects.all()}
    results: list[DeliveryResult] = []
    for incident in Incident.objects.filter(opened_sent_at__isnull=True).order_by("id"):
        results += _tell(incident, "opened", recipients, now)
    for incident in (Incident.objects.filter(resolved_at__isnull=False, resolved_sent_at__isnull=True,
                                             opened_sent_at__isnull=False).order_by("id")):
        results += _tell(incident, "resolved", recipients, now)
    return results


def _tell(incident: Incident, event: str, recipients: dict[int, AlertRecipient],
          now: datetime) -> list[DeliveryResult]:
    told_field, sent_field = ("told_open", "opened_sent_at") if event == "opened" else (
        "told_resolved", "resolved_sent_at")
    told = set(getattr(incident, told_field))
    if event == "opened":
        audience = set(recipients)
    else:  # the resolution goes to those who heard of the problem, and still are recipients
        audience = set(incident.told_open) & set(recipients)
    alert = alert_for(incident, event)
    results = [deliver(alert, recipients[pk]) for pk in sorted(audience - told)]
    told |= {r.recipient_id for r in results if r.ok}
    setattr(incident, told_field, sorted(told))
    changed = [told_field]
    if audience <= told or incident.delivery_rounds + 1 >= Incident.MAX_DELIVERY_ROUNDS:
        if not audience <= told:
            log.error("alert not delivered to every recipient, giving up incident=%s event=%s "
                      "untold=%s", incident.pk, event, sorted(audience - told))
        setattr(incident, sent_field, now)
        changed.append(sent_field)
        incident.delivery_rounds = 0
    else:
        incident.delivery_rounds += 1
    changed.append("delivery_rounds")
    incident.save(update_fields=changed)
    return results
