from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "profilesync.scheduling"
    label = "scheduling"
    verbose_name = "Scheduled jobs"

    def ready(self) -> None:
        # The receiver that tells a held lease which SyncRun it covers, and the checks
        # of the lease settings.
        from . import checks, exclusive  # noqa: F401
