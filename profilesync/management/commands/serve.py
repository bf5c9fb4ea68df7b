"""``profilesync serve``: the web pages under gunicorn, in the foreground."""

from __future__ import annotations

import sys

from django.db import connections

from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.webserver import default_workers, parse_bind, serve_forever


class Command(ProfilesyncCommand):
    help = "Serve the web pages with gunicorn until Ctrl-C or SIGTERM."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000",
                            help="HOST:PORT to listen on (default 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, default=default_workers(),
                            help="worker processes (default: two per core plus one)")
        parser.add_argument("--log-level", default="info",
                            choices=("debug", "info", "warning", "error"),
                            help="gunicorn's log level; debug also logs every request")

    def handle(self, *args, bind: str, workers: int, log_level: str, **options) -> None:
        parse_bind(bind)
        if workers < 1:
            raise usage_error(f"--workers: must be at least 1; got {workers}")
        connections.close_all()
        sys.exit(serve_forever(bind, workers, log_level))
