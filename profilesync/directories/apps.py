from django.apps import AppConfig


class DirectoriesConfig(AppConfig):
    name = "profilesync.directories"
    label = "directories"
    verbose_name = "User directories"
