from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "profilesync.accounts"
    label = "accounts"
    verbose_name = "Accounts"
