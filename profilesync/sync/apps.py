from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "profilesync.sync"
    label = "sync"
    verbose_name = "LDAP sync"

    def ready(self) -> None:
        # A person's own edits and their write-back outcome join the change history.
        from . import history_receivers  # noqa: F401
