from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "profilesync.profiles"
    label = "profiles"
    verbose_name = "Profiles"
