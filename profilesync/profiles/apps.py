from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profilesync.profiles"
    label = "profiles"
    verbose_name = "Profiles"

    def ready(self) -> None:
        from .search import signals

        signals.connect(self)
        from . import person_links  # issue 17: relink a profile saved outside a sync page

        person_links.connect()
