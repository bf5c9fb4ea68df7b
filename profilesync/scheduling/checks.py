"""Start-up checks of the scheduling settings: a lease renewed too rarely expires mid-run."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register


@register()
def check_lease_settings(app_configs=None, **kwargs) -> list[Error]:
    lease = settings.PROFILESYNC_SYNC_LEASE_SECONDS
    renew = settings.PROFILESYNC_SYNC_LEASE_RENEW_SECONDS
    errors = []
    if not 0 < renew < lease:
        errors.append(Error(
            f"PROFILESYNC_SYNC_LEASE_RENEW_SECONDS ({renew:g}) must be above 0 and below "
            f"PROFILESYNC_SYNC_LEASE_SECONDS ({lease:g})",
            hint="renew a few times per lease, e.g. a 600 s lease renewed every 60 s; otherwise "
            "a live run's lease expires and another worker takes it over",
            id="scheduling.E001"))
    if settings.PROFILESYNC_SCHEDULER_INTERVAL_SECONDS <= 0:
        errors.append(Error(
            "PROFILESYNC_SCHEDULER_INTERVAL_SECONDS must be above 0",
            hint="10 (seconds) is the default", id="scheduling.E002"))
    return errors
