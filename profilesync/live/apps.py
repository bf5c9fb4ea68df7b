from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "profilesync.live"
    label = "live"
    verbose_name = "Live updates"
    default_auto_field = "django.db.models.BigAutoField"
