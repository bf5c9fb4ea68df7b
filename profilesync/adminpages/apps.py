from django.apps import AppConfig


class AdminPagesConfig(AppConfig):
    name = "profilesync.adminpages"
    label = "adminpages"
    verbose_name = "Administration pages"
