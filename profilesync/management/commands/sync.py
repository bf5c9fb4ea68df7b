"""``profilesync sync``: import users and field values from the directories now."""

from __future__ import annotations

import json
import sys

from django.core.management.base import CommandError

from profilesync.directories.models import Directory
from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.scheduling.exclusive import SyncAlreadyRunning, run_sync_exclusively
from profilesync.scheduling.tasks import enqueue_sync
from profilesync.sync.models import SyncMode


class Command(ProfilesyncCommand):
    help = "Import users and profile fields from every syncable directory (or one)."

    def add_arguments(self, parser) -> None:
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
               reconcile: bool = False, background: bool = False, **options) -> None:
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
            report = run_sync_exclusively(directories, force=force, trigger="cli", mode=mode)
        except SyncAlreadyRunning as exc:
            raise CommandError(f"{exc}; try again when it has finished", returncode=1) from exc
        if json:
            self.stdout.write(_dumps(report.as_json()))
        else:
            self._print_summary(report)
        if not report.ok:
            sys.exit(1)

    def _print_summary(self, report) -> None:
        run = report.run
        self.stdout.write(f"sync run {run.pk} ({run.mode}) {run.status} "
                          f"in {run.duration_seconds:.2f} s")
        for result in report.results:
            self.stdout.write(
                f"  {result.directory_name}: {result.status}, created {result.created}, "
                f"updated {result.updated}, unchanged {result.unchanged}, "
                f"deactivated {result.deactivated}, failed {result.failed}")
            for error in result.errors[:10]:
                where = f"{error['dn']}: " if error["dn"] else ""
                self.stdout.write(f"    {where}{error['message']}")


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)
