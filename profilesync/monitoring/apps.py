from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "profilesync.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring and alerts"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the settings checks)
