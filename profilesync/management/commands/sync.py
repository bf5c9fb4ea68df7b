"""``profilesync sync``: import users and field values from the directories now."""

from __future__ import annotations

import json
import sys

from django.core.management.base import CommandError

from profilesync.directories.models import Directory
from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.scheduling.exclusive import SyncAlreadyRunning, run_sync_exclusively
from profilesync.scheduling.tasks import enqueue_sync
from profilesync.sync.models import SyncMode, SyncRun
from profilesync.sync.report import run_as_json, run_as_lines


class Command(ProfilesyncCommand):
    help = "Import users and profile fields from every syncable directory (or one)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", nargs="?", choices=["report"],
                            help="`report`: print the sync report (the last runs) instead of "
                            "syncing")
        parser.add_argument("--run", type=int, help="with report: show this run in detail")
        parser.add_argument("--limit", type=int, default=10,
                            help="with report: how many runs (default 10)")
        modes = parser.add_mutually_exclusive_group()
        modes.add_argument("--full", action="store_true",
                           help="read every user, even when incremental sync is on")
        modes.add_argument("--reconcile", action="store_true",
                           help="only find users deleted or gone from the filter and deactivate "
                           "them (compares unique IDs; no field values are read)")
        parser.add_argument("--directory", help="sync only this directory")
        parser.add_argument("--force", action="store_true",
                            help="deactivate users even past the directory's deactivation limit")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--background", action="store_true",
                            help="run now in a worker (`profilesync worker`): queue the run "
                            "and return at once")

    def handle(self, *args, full: bool, directory: str | None, force: bool, json: bool,
               reconcile: bool = False, background: bool = False, action: str | None = None,
               run: int | None = None, limit: int = 10, **options) -> None:
        if action == "report":
            self._report(run, limit, json)
            return
        directories = None
        if directory is not None:
            chosen = Directory.objects.filter(name=directory).first()
            if chosen is None:
                raise usage_error(f"--directory: no directory named {directory!r}")
            directories = [chosen]
        mode = SyncMode.FULL if full else SyncMode.RECONCILIATION if reconcile else None
        if background:
            queued = enqueue_sync(trigger="manual", force=force, mode=mode,
                                  directory_names=[directory] if directory else None)
            self.stdout.write(_dumps({"queued": True, "task": queued.id}) if json else
                              f"sync queued as task {queued.id}; a worker runs it next")
            return
        try:
            progress = None if json or not sys.stderr.isatty() else _print_progress
            report = run_sync_exclusively(directories, force=force, trigger="cli", mode=mode,
                                          progress=progress)
            if progress is not None:
                sys.stderr.write("\n")
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{exc}; try again when it has finished", returncode=1) from exc
        if json:
            self.stdout.write(_dumps(report.as_json()))
        else:
            self._print_summary(report)
        if not report.ok:
            # The exit status says the run failed; standard error says which parts.
            sys.stderr.write(f"sync failed for: {', '.join(report.failed)}\n")
            sys.exit(1)

    def _print_summary(self, report) -> None:
        for line in run_as_lines(report.run):
            self.stdout.write(line)

    def _report(self, run_id: int | None, limit: int, as_json: bool) -> None:
        runs = SyncRun.objects.prefetch_related("results")
        if run_id is not None:
            runs = runs.filter(pk=run_id)
            if not runs:
                raise usage_error(f"--run: no sync run #{run_id}; `profilesync sync report` "
                                  "lists them")
        chosen = list(runs[:limit])
        if as_json:
            self.stdout.write(_dumps([run_as_json(r) for r in chosen]))
            return
        if not chosen:
            self.stdout.write("no sync run yet; `profilesync sync` runs one")
        for recorded in chosen:
            for line in run_as_lines(recorded, detail=run_id is not None):
                self.stdout.write(line)


def _print_progress(directory_name: str, counts) -> None:
    """One self-overwriting line on the terminal while pages come in."""
    read = counts.created + counts.updated + counts.unchanged + counts.failed
    sys.stderr.write(f"\r  {directory_name}: {read} users read (created {counts.created}, "
                     f"updated {counts.updated}, unchanged {counts.unchanged}, "
                     f"failed {counts.failed})")
    sys.stderr.flush()


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
