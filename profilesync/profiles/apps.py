from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profilesync.profiles"
    label = "profiles"
    verbose_name = "Profiles"

    def ready(self) -> None:
        from .search import signals

        signals.connect(self)
