from django.apps import AppConfig


class WritebackConfig(AppConfig):
    name = "profilesync.writeback"
    label = "writeback"
    verbose_name = "Write-back"
