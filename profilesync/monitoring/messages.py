"""What an alert says: the same facts for mail (subject and text) and webhooks (JSON).

Every alert names the directory, the cause and the page to open, so the person
on call can act without first finding out what broke.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from .rules import RULE_TITLES


@dataclass(frozen=True)
class Alert:
    event: str  # "opened", "resolved" or "test"
    rule: str
    directory: str
    cause: str
    page: str
    incident_id: int | None
    opened_at: datetime
    resolved_at: datetime | None = None
    details: dict | None = None

    @property
    def title(self) -> str:
        return RULE_TITLES.get(self.rule, self.rule.replace("_", " "))

    @property
    def page_url(self) -> str:
        return f"{settings.PROFILESYNC_BASE_URL}{self.page}"

    @property
    def subject(self) -> str:
        state = {"opened": "PROBLEM", "resolved": "RESOLVED", "test": "TEST"}[self.event]
        where = f" in directory {self.directory}" if self.directory else ""
        return f"[profilesync] {state}: {self.title}{where}"

    def text(self) -> str:
        lines = [self.subject.removeprefix("[profilesync] "), ""]
        if self.directory:
            lines.append(f"Directory: {self.directory}")
        lines.append(f"Cause: {self.cause}")
        lines.append(f"Open: {self.page_url}")
        lines.append(f"Since: {self.opened_at:%Y-%m-%d %H:%M:%S} UTC")
        if self.resolved_at:
            lines.append(f"Resolved: {self.resolved_at:%Y-%m-%d %H:%M:%S} UTC")
        if self.event == "opened":
            lines += ["", "You are told once now and once when it is resolved."]
        if self.event == "test":
            lines += ["", "A test from the Notifications page or `profilesync alerts test`: "
                      "alerts reach this recipient."]
        return "\n".join(lines) + "\n"

    def payload(self) -> dict:
        return {
            "event": self.event,
            "rule": self.rule,
            "title": self.title,
            "directory": self.directory,
            "cause": self.cause,
            "page": self.page_url,
            "incident": self.incident_id,
            "opened_at": self.opened_at.isoformat(),
            "resolved_at": self.resolved_at.isoformat() if self.resolved_at else None,
            "details": self.details or {},
            "summary": self.subject.removeprefix("[profilesync] "),
        }


def alert_for(incident, event: str) -> Alert:
    return Alert(event=event, rule=incident.rule, directory=incident.directory_name,
                 cause=incident.cause, page=incident.page, incident_id=incident.pk,
                 opened_at=incident.opened_at, resolved_at=incident.resolved_at,
                 details=incident.details)


def test_alert(now: datetime) -> Alert:
    return Alert(event="test", rule="test", directory="", cause="a test alert, nothing is wrong",
                 page="/admin/notifications/", incident_id=None, opened_at=now)
