from django.apps import AppConfig


class ProfilesyncConfig(AppConfig):
    """The project package itself, registered so its management commands are found."""

    name = "profilesync"
    verbose_name = "profilesync"
