from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "profilesync.sync"
    label = "sync"
    verbose_name = "LDAP sync"
