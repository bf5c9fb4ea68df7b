"""``profilesync directory add|set|list|show|test|check-pattern|test-write|remove``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from django.core.management.base import CommandError

from profilesync.directories.connection_test import Outcome, Step, check_connection
from profilesync.directories.models import Directory, DirectoryType, Vendor
from profilesync.directories.services import create_directory, update_directory
from profilesync.ldapclient.errors import DirectoryError
from profilesync.live.status import live_status, set_live
from profilesync.management.base import ProfilesyncCommand, option_name, usage_error
from profilesync.sync.pattern_check import check_pattern, next_run_reason, preview_next_run
from profilesync.writeback.test_panel import run_test_panel


def _add_settings(parser: argparse.ArgumentParser, *, adding: bool) -> None:
    parser.add_argument("name")
    parser.add_argument("--url", dest="urls", action="append", metavar="URL",
                        help="ldap://, ldaps:// or ldapi:// URL; repeat or comma-separate "
                        "for replicas tried in order" + ("" if adding else " (replaces all)"))
    parser.add_argument("--bind-dn")
    parser.add_argument("--bind-password-file", metavar="FILE",
                        help="file holding the bind password ('-' reads standard input); "
                        "the password is never accepted on the command line")
    parser.add_argument("--base-dn")
    parser.add_argument("--user-dn", help="additional user DN, relative to the base DN")
    parser.add_argument("--user-filter")
    parser.add_argument("--vendor", choices=Vendor.values)
    parser.add_argument("--type", choices=DirectoryType.values)
    parser.add_argument("--start-tls", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--ca-file")
    parser.add_argument("--username-attribute")
    parser.add_argument("--unique-id-attribute")
    parser.add_argument("--modify-timestamp-attribute",
                        help="attribute an incremental run filters on (modifyTimestamp, whenChanged)")
    parser.add_argument("--timestamp-pattern",
                        help="how the last sync date is written into the incremental filter, "
                        "e.g. yyyyMMddHHmmssZ (OpenLDAP) or yyyyMMddHHmmss.Z (AD); always UTC")
    parser.add_argument("--page-size", type=int)
    parser.add_argument("--connect-timeout", type=float)
    parser.add_argument("--operation-timeout", type=float)
    parser.add_argument("--max-deactivate-percent", type=float,
                        help="a sync that would deactivate more than this share of the "
                        "directory's users stops and asks (default 20)")
    parser.add_argument("--max-deactivate-percent-24h", type=float,
                        help="a sync that would bring the deactivations of the last 24 hours "
                        "past this share of the directory's users stops and asks (default 30)")
    parser.add_argument("--live", choices=["on", "off", "default"],
                        help="live updates: on, off, or default (on where the server pushes "
                        "changes or notifies)")
    parser.add_argument("--live-poll-seconds", type=float,
                        help="where the server pushes nothing: seconds between polls (default 10)")
    parser.add_argument("--deactivation-floor", type=int,
                        help="this many people may always be deactivated, whatever the shares "
                        "(default 3)")


def _read_password(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise usage_error(f"--bind-password-file: cannot read {path}: {exc.strerror}") from exc
    return text.rstrip("\r\n")


def describe(directory: Directory) -> dict:
    """Everything about a directory except its password, which is never shown back."""
    next_mode, next_filter = preview_next_run(directory)
    return {
        "name": directory.name,
        "type": directory.type,
        "vendor": directory.vendor,
        "urls": directory.urls,
        "start_tls": directory.start_tls,
        "ca_file": directory.ca_file,
        "bind_dn": directory.bind_dn,
        "bind_password": "(set)" if directory.has_bind_password else "(not set)",
        "base_dn": directory.base_dn,
        "user_dn": directory.user_dn,
        "user_filter": directory.user_filter,
        "username_attribute": directory.username_attribute,
        "unique_id_attribute": directory.unique_id_attribute,
        "modify_timestamp_attribute": directory.modify_timestamp_attribute,
        "timestamp_pattern": directory.timestamp_pattern,
        "page_size": directory.page_size,
        "connect_timeout": directory.connect_timeout,
        "operation_timeout": directory.operation_timeout,
        "max_deactivate_percent": round(directory.max_deactivate_share * 100, 2),
        "max_deactivate_percent_24h": round(directory.max_deactivate_share_24h * 100, 2),
        "deactivation_floor": directory.deactivation_floor,
        "page_size_note": directory.page_size_note,
        "syncable": directory.sync_refusal() is None,
        "sync_refusal": directory.sync_refusal() or "",
        "next_run_mode": next_mode,
        "next_run_reason": next_run_reason(directory),
        "next_run_filter": next_filter,
        "live": live_status(directory),
    }


class Command(ProfilesyncCommand):
    help = "Manage user directories."

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        _add_settings(actions.add_parser("add", help="add a directory"), adding=True)
        _add_settings(actions.add_parser("set", help="change a directory"), adding=False)
        listing = actions.add_parser("list", help="list directories")
        listing.add_argument("--json", action="store_true")
        show = actions.add_parser("show", help="show one directory")
        show.add_argument("name")
        show.add_argument("--json", action="store_true")
        test = actions.add_parser(
            "test", help="test the saved connection settings step by step, as the directory "
            "page's \"Test connection\" does")
        test.add_argument("name")
        test.add_argument("--json", action="store_true")
        check = actions.add_parser("check-pattern",
                                   help="ask the directory whether it understands the pattern")
        check.add_argument("name")
        check.add_argument("--json", action="store_true")
        test_write = actions.add_parser(
            "test-write", help="check that a user's attribute can be written back")
        test_write.add_argument("name")
        test_write.add_argument("--user", required=True, help="a user name of this directory")
        test_write.add_argument("--attribute", required=True, help="the LDAP attribute")
        test_write.add_argument("--json", action="store_true")
        remove = actions.add_parser("remove", help="remove a directory without profiles")
        remove.add_argument("name")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"handle_{action.replace('-', '_')}")(**options)

    def _options(self, options: dict) -> dict:
        settings = {k: options.get(k) for k in (
            "urls", "bind_dn", "base_dn", "user_dn", "user_filter", "vendor", "type",
            "start_tls", "ca_file", "username_attribute", "unique_id_attribute", "page_size",
            "connect_timeout", "operation_timeout", "max_deactivate_percent",
            "max_deactivate_percent_24h", "deactivation_floor",
            "modify_timestamp_attribute", "timestamp_pattern")}
        settings["bind_password"] = _read_password(options.get("bind_password_file"))
        return settings

    def _get(self, name: str) -> Directory:
        try:
            return Directory.objects.get(name=name)
        except Directory.DoesNotExist:
            known = ", ".join(Directory.objects.values_list("name", flat=True)) or "none yet"
            raise usage_error(f"no directory named {name!r} (known: {known})") from None

    def handle_add(self, name: str, **options) -> None:
        directory = create_directory(name, self._options(options))
        set_live(directory, options.get("live"), options.get("live_poll_seconds"))
        self.stdout.write(f"directory {directory.name} added")
        refusal = directory.sync_refusal()
        if refusal:
            self.stdout.write(f"note: this directory will not be synced: {refusal}")
        elif options.get("timestamp_pattern") is not None:
            self._check_pattern_when_set(directory)

    def handle_set(self, name: str, **options) -> None:
        directory = update_directory(self._get(name), self._options(options))
        set_live(directory, options.get("live"), options.get("live_poll_seconds"))
        self.stdout.write(f"directory {directory.name} updated")
        if options.get("timestamp_pattern") is not None and directory.sync_refusal() is None:
            self._check_pattern_when_set(directory)

    def _check_pattern_when_set(self, directory: Directory) -> None:
        """Ask the directory at once whether it understands the pattern just set, and say so.

        The setting is saved either way (the directory may be down for now);
        an incremental run checks again when its answer is empty.
        """
        try:
            check = check_pattern(directory)
        except DirectoryError as exc:
            self.stdout.write(f"pattern check: cannot ask the directory now: {exc}")
            return
        self.stdout.write(f"pattern check: {check.pattern!r} {check.message}")

    def handle_list(self, json: bool = False, **options) -> None:
        rows = [describe(d) for d in Directory.objects.all()]
        if json:
            self.stdout.write(_dumps(rows))
            return
        for row in rows:
            state = "syncable" if row["syncable"] else "not syncable"
            self.stdout.write(f"{row['name']}\t{row['vendor']}\t{row['type']}\t"
                              f"{' '.join(row['urls'])}\t{row['base_dn']}\t{state}")

    def handle_show(self, name: str, json: bool = False, **options) -> None:
        row = describe(self._get(name))
        if json:
            self.stdout.write(_dumps(row))
            return
        width = max(len(k) for k in row)
        for key, value in row.items():
            shown = " ".join(value) if isinstance(value, list) else value
            self.stdout.write(f"{key.ljust(width)}  {shown}")

    def handle_test(self, name: str, json: bool = False, **options) -> None:
        steps = check_connection(self._get(name))
        passed = all(step.passed for step in steps)
        if json:
            self.stdout.write(_dumps({"ok": passed, "steps": [_step_json(s) for s in steps]}))
        else:
            marks = {Outcome.PASSED: "ok  ", Outcome.WARNING: "warn", Outcome.FAILED: "FAIL"}
            for step in steps:
                self.stdout.write(f"{marks[step.outcome]}  {step.title}: {step.detail}")
                if step.outcome != Outcome.PASSED and step.hint:
                    where = f" ({_setting_option(step.setting)})" if step.setting else ""
                    self.stdout.write(f"      {step.hint}{where}")
        if not passed:
            sys.exit(1)

    def handle_check_pattern(self, name: str, json: bool = False, **options) -> None:
        directory = self._get(name)
        try:
            check = check_pattern(directory)
        except DirectoryError as exc:
            raise CommandError(f"cannot ask directory {name!r}: {exc}", returncode=1) from exc
        if json:
            self.stdout.write(_dumps(check.as_json()))
        else:
            self.stdout.write(f"{name}: pattern {check.pattern!r} {check.message}")
        if check.understood is False:
            sys.exit(1)

    def handle_test_write(self, name: str, user: str, attribute: str, json: bool = False,
                          **options) -> None:
        result = run_test_panel(self._get(name), user, attribute)
        if json:
            self.stdout.write(_dumps(result.as_json()))
        else:
            for step in result.steps:
                self.stdout.write(f"{'ok  ' if step.ok else 'FAIL'}  {step.name}: {step.detail}")
        if not result.ok:
            sys.exit(1)

    def handle_remove(self, name: str, **options) -> None:
        directory = self._get(name)
        if directory.profiles.exists():
            raise CommandError(
                f"directory {name!r} still has {directory.profiles.count()} profiles; "
                "profiles are never deleted by profilesync", returncode=2)
        directory.delete()
        self.stdout.write(f"directory {name} removed")


def _setting_option(setting: str) -> str:
    """The option of `directory set` that changes ``setting``."""
    return "--bind-password-file" if setting == "bind_password" else option_name(setting)


def _step_json(step: Step) -> dict:
    return {"title": step.title, "outcome": str(step.outcome), "detail": step.detail,
            "hint": step.hint, "option": _setting_option(step.setting) if step.setting else ""}


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
