"""``profilesync check [--json]``: the readiness checks of ``/readyz``, from the command line.

Exit code 0 when ready, 1 when not (naming the failing part), so a service
manager or a deploy script can wait for a node to be ready.

It takes the name of Django's own ``check`` (the system checks): profilesync's
commands run those themselves before they start, so an operator loses nothing.
"""

from __future__ import annotations

import json

from django.core.management.base import CommandError

from profilesync.management.base import ProfilesyncCommand
from profilesync.monitoring.health import readiness


class Command(ProfilesyncCommand):
    help = ("Check that this node is ready: the settings (Django's system checks), the database "
            "(migrations applied), the cache, and a recent worker heartbeat when scheduled sync "
            "is on. Exit code 1 when not ready.")
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser) -> None:
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, json: bool = False, **options) -> None:
        result = readiness(include_settings=True)
        if json:
            self.stdout.write(_dumps(result.as_json()))
        else:
            self.stdout.write(result.as_text().rstrip("\n"))
        if not result.ready:
            failing = ", ".join(f"{c.name} ({c.detail})" for c in result.failing)
            raise CommandError(f"not ready: {failing}", returncode=1)


def _dumps(value: object) -> str:
    return json.dumps(value, indent=2)
