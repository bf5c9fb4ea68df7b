"""``profilesync sync``: import users and field values from the directories now."""

from __future__ import annotations

import csv
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
        parser.add_argument("--dry-run", action="store_true",
                            help="read the directories exactly as the run would and say what it "
                            "would change, writing nothing (the guard is weighed, not obeyed)")
        parser.add_argument("--changes", nargs="?", const=True, default=None, metavar="FILE",
                            help="with --dry-run: write one JSON line per person who would "
                            "change to FILE; with report --run N: print the run's change "
                            "history (CSV, or JSON lines with --json)")
        parser.add_argument("--background", action="store_true",
                            help="run now in a worker (`profilesync worker`): queue the run "
                            "and return at once")

    def handle(self, *args, full: bool, directory: str | None, force: bool, json: bool,
               reconcile: bool = False, background: bool = False, action: str | None = None,
               run: int | None = None, limit: int = 10, dry_run: bool = False,
               changes: str | bool | None = None, **options) -> None:
        if action == "report":
            if changes is not None:
                self._report_changes(run, changes, json)
                return
            self._report(run, limit, json)
            return
        if changes is not None and not (dry_run and isinstance(changes, str)):
            raise usage_error("--changes FILE goes with --dry-run (or `sync report --run N "
                              "--changes`)")
        directories = None
        if directory is not None:
            chosen = Directory.objects.filter(name=directory).first()
            if chosen is None:
                raise usage_error(f"--directory: no directory named {directory!r}")
            directories = [chosen]
        mode = SyncMode.FULL if full else SyncMode.RECONCILIATION if reconcile else None
        if dry_run:
            if background or force:
                raise usage_error("--dry-run: runs here and obeys no limit; leave out "
                                  "--background and --force")
            self._dry_run(directories, mode, json, changes if isinstance(changes, str) else None)
            return
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

    def _dry_run(self, directories, mode: str | None, as_json: bool,
                 changes_file: str | None) -> None:
        from profilesync.sync.dry_run import preview

        progress = None if as_json or not sys.stderr.isatty() else _print_progress
        result = preview(directories, mode=mode, progress=progress)
        if progress is not None:
            sys.stderr.write("\n")
        if changes_file is not None:
            try:
                with open(changes_file, "w", encoding="utf-8") as out:
                    for line in result.change_lines():
                        out.write(line + "\n")
            except OSError as exc:
                raise usage_error(f"--changes: cannot write {changes_file!r}: "
                                  f"{exc.strerror}") from exc
        if as_json:
            self.stdout.write(_dumps(result.as_json()))
        else:
            self.stdout.write("dry run: nothing was written")
            for r in result.report.results:
                verdict = result.guards.get(r.directory_name, {})
                line = (f"  {r.directory_name}: would create {r.created}, update {r.updated}, "
                        f"deactivate {r.deactivated}; unchanged {r.unchanged}, "
                        f"failed {r.failed}")
                if r.status != "succeeded":
                    line += f"; fails: {r.errors[0]['message'] if r.errors else r.status}"
                if verdict.get("tripped"):
                    line += (f"; deactivation guard trips ({verdict['share']:.0%} > "
                             f"{verdict['limit']:.0%}): the real run needs --force")
                self.stdout.write(line)
        # The exit status says whether the real run would succeed: not when a part fails or
        # the guard would stop it.
        stopped = [name for name, verdict in result.guards.items() if verdict["tripped"]]
        if not result.report.ok or stopped:
            sys.stderr.write(f"the run would fail for: "
                             f"{', '.join(sorted({*result.report.failed, *stopped}))}\n")
            sys.exit(1)

    def _report_changes(self, run_id: int | None, changes: str | bool, as_json: bool) -> None:
        from profilesync.sync import history

        if run_id is None:
            raise usage_error("--changes: name the run with --run N")
        if not SyncRun.objects.filter(pk=run_id).exists():
            raise usage_error(f"--run: no sync run #{run_id}; `profilesync sync report` lists "
                              "them")
        rows = (history.PersonChange.objects.filter(run_id=run_id)
                .order_by("directory_name", "username", "id").iterator(chunk_size=2000))
        out = open(changes, "w", encoding="utf-8") if isinstance(changes, str) else self.stdout
        try:
            if as_json:
                for line in history.as_lines(rows):
                    out.write(_dumps(line) + "\n")
            else:
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(history.CSV_COLUMNS)
                writer.writerows(history.as_csv_rows(rows))
        finally:
            if out is not self.stdout:
                out.close()

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
