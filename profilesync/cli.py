"""The ``profilesync`` console script: Django's management entry point with our settings."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "profilesync.settings")
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(["profilesync", *(argv if argv is not None else sys.argv[1:])])
    except BrokenPipeError:
        # Output piped into `head` and the like: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)


if __name__ == "__main__":
    main()
