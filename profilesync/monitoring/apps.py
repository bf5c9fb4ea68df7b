from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    name = "profilesync.monitoring"
    label = "monitoring"
    verbose_name = "Monitoring and alerts"
