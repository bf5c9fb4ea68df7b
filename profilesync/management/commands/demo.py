"""``profilesync demo``: the first-run experience, one command from nothing to people pages.

Steps, each done by a module of ``profilesync.demo``: migrate the database,
start the private slapd with generated people (loaded on the first start,
reused afterwards), make sure the "demo" directory points at it, run a full
sync, make sure the local admin exists, then serve the web pages like
``profilesync serve`` until Ctrl-C or SIGTERM. slapd is stopped on every way
out, including a failure half-way.

``--directory ad`` does the same with a private Samba Active Directory domain
controller (``profilesync.demo.ad_server``) and the directory "demo-ad", where
the machine allows it: root, with the samba packages installed.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections

from profilesync.demo.ad_server import DEMO_AD_USER_PASSWORD, DemoDC, start_demo_dc
from profilesync.demo.admin_account import AdminLogin, ensure_admin
from profilesync.demo.directory_config import ensure_demo_ad_directory, ensure_demo_directory
from profilesync.demo.directory_server import (
    DEMO_USER_PASSWORD,
    SUFFIX,
    DemoServer,
    start_demo_server,
)
from profilesync.demo.showcase import prepare_showcase
from profilesync.directories.models import Directory
from profilesync.hosts import hosts_for_bind
from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.sync.models import SyncMode
from profilesync.sync.runner import RunReport, run_sync
from profilesync.testing.samba import SambaNotAvailable
from profilesync.webserver import check_bind_free, public_url, serve_forever

RUN_DIR_NAME = "demo-slapd"
AD_RUN_DIR_NAME = "demo-samba"


class _Stopped(BaseException):
    """SIGTERM or Ctrl-C before the web server runs; unwinds like KeyboardInterrupt."""

    def __init__(self, signum: int):
        self.signum = signum


def _raise_stopped(signum: int, frame: object) -> None:
    raise _Stopped(signum)


class Command(ProfilesyncCommand):
    help = ("Run profilesync with a private OpenLDAP server full of generated people: "
            "import them and serve the people pages until Ctrl-C.")

    def add_arguments(self, parser) -> None:
        parser.add_argument("--people", type=int, default=2000,
                            help="how many people to generate on the first start (default 2000)")
        parser.add_argument("--bind", default="127.0.0.1:8000",
                            help="HOST:PORT for the web pages (default 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, default=2,
                            help="web worker processes (default 2)")
        parser.add_argument("--directory", choices=("openldap", "ad"), default="openldap",
                            help="the demo's directory server: a private OpenLDAP (default) or "
                            "a private Samba Active Directory DC (needs root and the samba "
                            "packages that scripts/bootstrap installs)")

    def handle(self, *args, people: int, bind: str, workers: int, directory: str = "openldap",
               **options) -> None:
        if not 1 <= people <= 1_000_000:
            raise usage_error(f"--people: must be from 1 to 1000000; got {people}")
        if workers < 1:
            raise usage_error(f"--workers: must be at least 1; got {workers}")
        check_bind_free(bind)

        previous = {sig: signal.signal(sig, _raise_stopped) for sig in (signal.SIGTERM, signal.SIGINT)}
        server: DemoServer | DemoDC | None = None
        exit_code = 0
        try:
            call_command("init", stdout=self.stdout)
            if directory == "ad":
                server = self._start_ad_server(people)
                configured = self._configure_ad_directory(server)
            else:
                server = self._start_directory_server(people)
                configured = self._configure_directory(server)
            if self._sync(configured).ok:
                if self._created:
                    self._prepare_showcase(configured)
                admin = ensure_admin(settings.DATA_DIR)
                self._print_banner(server, admin, bind)
                connections.close_all()
                # The demo answers to the names of its own --bind (profilesync/hosts.py).
                os.environ.setdefault("PROFILESYNC_ALLOWED_HOSTS", hosts_for_bind(bind))
                exit_code = serve_forever(bind, workers, log_level="warning")
                self.stdout.write("web server stopped")
            else:
                exit_code = 1
        except _Stopped as stop:
            self.stdout.write(f"stopped by {signal.Signals(stop.signum).name}")
            exit_code = 128 + stop.signum
        finally:
            # A second Ctrl-C must not cut the cleanup short and leave slapd running.
            for sig in previous:
                signal.signal(sig, signal.SIG_IGN)
            if server is not None:
                server.stop()
                self.stdout.write("demo directory server stopped")
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        sys.exit(exit_code)

    def _start_directory_server(self, people: int) -> DemoServer:
        run_dir = settings.DATA_DIR / RUN_DIR_NAME
        started = time.monotonic()
        if not (run_dir / "demo.json").exists():
            self.stdout.write(f"generating {people} people and loading them into a private "
                              f"OpenLDAP server in {run_dir} ...")
            self.stdout.flush()
        server = start_demo_server(run_dir, people)
        self._report_started("directory server", server, run_dir, people, started)
        return server

    def _start_ad_server(self, people: int) -> DemoDC:
        run_dir = settings.DATA_DIR / AD_RUN_DIR_NAME
        started = time.monotonic()
        if not (run_dir / "demo.json").exists():
            self.stdout.write(f"adding {people} generated people to a private Samba Active "
                              f"Directory DC in {run_dir} (about {people // 150 + 2} s) ...")
            self.stdout.flush()
        try:
            server = start_demo_dc(run_dir, people)
        except SambaNotAvailable as exc:
            raise CommandError(
                f"--directory ad: cannot run a Samba AD domain controller here: {exc}; run the "
                "demo as root after scripts/bootstrap, or use --directory openldap",
                returncode=1) from exc
        self._report_started("Active Directory DC", server, run_dir, people, started)
        return server

    def _report_started(self, what: str, server: DemoServer | DemoDC, run_dir, people: int,
                        started: float) -> None:
        how = "loaded" if server.loaded_now else "reused"
        self.stdout.write(f"{what} running at {server.url} ({how}, "
                          f"{server.state.people} people, {time.monotonic() - started:.1f} s)")
        if not server.loaded_now and server.state.people != people:
            self.stdout.write(f"  note: it keeps the {server.state.people} people of its first "
                              f"start; delete {run_dir} to generate {people}")

    def _configure_ad_directory(self, server: DemoDC) -> Directory:
        dc = server.dc
        directory, action = ensure_demo_ad_directory(server.url, dc.ca_file, dc.base_dn,
                                                     dc.admin_dn, dc.admin_password)
        self._created = action == "created"
        self.stdout.write(f"directory {directory.name!r} {action} "
                          f"(base DN {directory.base_dn}, users under {directory.search_base})")
        return directory

    def _configure_directory(self, server: DemoServer) -> Directory:
        directory, action = ensure_demo_directory(server.url, server.state.root_password)
        self._created = action == "created"
        self.stdout.write(f"directory {directory.name!r} {action} "
                          f"(base DN {directory.base_dn}, users under {directory.search_base})")
        return directory

    _created = False  # whether this start created the demo directory

    def _prepare_showcase(self, directory: Directory) -> None:
        """First start: write-back on, and some people's own About me and skills."""
        done = prepare_showcase(directory)
        keys = ", ".join(done["write_back"]) or "none newly"
        self.stdout.write(f"write-back switched on globally and for {keys}; "
                          f"{done['own_details']} people given an About me and skills")

    def _sync(self, directory: Directory) -> RunReport:
        self.stdout.write("full sync ...")
        self.stdout.flush()
        report = run_sync([directory], trigger="demo", mode=SyncMode.FULL)
        run = report.run
        for result in report.results:
            self.stdout.write(
                f"sync run {run.pk} {result.status} in {run.duration_seconds:.1f} s: "
                f"created {result.created}, updated {result.updated}, "
                f"unchanged {result.unchanged}, deactivated {result.deactivated}, "
                f"failed {result.failed}")
            for error in result.errors[:10]:
                where = f"{error['dn']}: " if error["dn"] else ""
                self.stderr.write(f"  {where}{error['message']}")
        return report

    def _print_banner(self, server: DemoServer | DemoDC, admin: AdminLogin, bind: str) -> None:
        if admin.password is not None:
            login = f"{admin.username} / {admin.password}"
        elif admin.password_file.exists():
            login = f"{admin.username} (password changed since it was written to {admin.password_file})"
        else:
            login = f"{admin.username} (made before the demo; its password is not on file)"
        url = public_url(bind)
        self.stdout.write("")
        self.stdout.write("profilesync demo is running")
        self.stdout.write(f"  people:      {url}")
        self.stdout.write(f"  admin login: {login}")
        if admin.password is not None:
            self.stdout.write(f"               (kept in {admin.password_file})")
        if isinstance(server, DemoDC):
            self.stdout.write(f"  people log in as e.g. user000001 or user000001@example.test / "
                              f"{DEMO_AD_USER_PASSWORD} (every demo person has that password)")
            self.stdout.write(f"  directory:   {server.url}  bind {server.dc.admin_dn}  "
                              f"CA file {server.dc.ca_file}")
        else:
            self.stdout.write(f"  people log in as e.g. user000001 / {DEMO_USER_PASSWORD} "
                              "(every demo person has that password)")
            self.stdout.write(f"  directory:   {server.url}  bind {server.slapd.root_dn}")
        self.stdout.write("  try:         sign in as user000001, open \u201cEdit profile\u201d, change "
                          "the phone or job title, save;")
        self.stdout.write(f"               the org chart at {url}/org/ and a colleague\u2019s card "
                          "on hover; the REST API at /api/v1/")
        if not isinstance(server, DemoDC):
            self.stdout.write("  look in the directory: ldapsearch -x -LLL -H "
                              f"{server.url} -b ou=people,{SUFFIX} '(uid=user000001)' "
                              "telephoneNumber title manager")
        self.stdout.write("Stop with Ctrl-C.")
        self.stdout.write("")
        self.stdout.flush()
