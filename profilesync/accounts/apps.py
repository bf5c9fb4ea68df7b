from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "profilesync.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from profilesync.sync.models import DirectoryRunResult

        from .deactivation import run_recorded

        # Access ends when a sync deactivates a profile (deactivation.py says why here).
        post_save.connect(run_recorded, sender=DirectoryRunResult,
                          dispatch_uid="accounts-end-access-after-sync")
