"""Start-up checks of the monitoring settings: a typo is named at start, not at the first scrape."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured

from .live_listeners import down_threshold
from .metrics_access import allowed_networks


@register()
def check_monitoring_settings(app_configs=None, **kwargs) -> list[Error]:
    errors = []
    try:
        allowed_networks(settings.PROFILESYNC_METRICS_ALLOW)
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), hint="comma-separated addresses or networks",
                            id="monitoring.E001"))
    if settings.PROFILESYNC_READY_REQUIRES_WORKER not in ("auto", "on", "off"):
        errors.append(Error(
            f"PROFILESYNC_READY_REQUIRES_WORKER is {settings.PROFILESYNC_READY_REQUIRES_WORKER!r}",
            hint="auto (the default), on or off", id="monitoring.E002"))
    stale = settings.PROFILESYNC_ALERT_SYNC_STALE_SECONDS
    if stale not in ("", None):
        try:
            valid = float(stale) > 0
        except ValueError:
            valid = False
        if not valid:
            errors.append(Error(f"PROFILESYNC_ALERT_SYNC_STALE_SECONDS is {stale!r}",
                                hint="a number of seconds above 0, or empty for twice the sync "
                                "job's schedule", id="monitoring.E003"))
    if settings.PROFILESYNC_WEBHOOK_ATTEMPTS < 1:
        errors.append(Error("PROFILESYNC_WEBHOOK_ATTEMPTS must be 1 or more", hint="4 is the default",
                            id="monitoring.E004"))
    base = settings.PROFILESYNC_BASE_URL
    if base and not base.startswith(("http://", "https://")):
        errors.append(Error(f"PROFILESYNC_BASE_URL is {base!r}", hint="the address people open, "
                            "e.g. https://people.example.org", id="monitoring.E005"))
    try:
        down_threshold()
    except ImproperlyConfigured as exc:
        errors.append(Error(str(exc), hint="a number of seconds; 0 turns the rule off",
                            id="monitoring.E006"))
    return errors
