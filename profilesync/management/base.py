"""What every profilesync command shares: turning input errors into exit code 2."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from profilesync.errors import InvalidSetting


def option_name(setting: str) -> str:
    """The command-line spelling of a setting, as the user typed it."""
    return "--" + setting.replace("_", "-")


class ProfilesyncCommand(BaseCommand):
    """A command whose input errors exit with code 2 and name the option at fault."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except InvalidSetting as exc:
            raise CommandError(f"{option_name(exc.setting)}: {exc.message}", returncode=2) from exc


def usage_error(message: str) -> CommandError:
    return CommandError(message, returncode=2)
