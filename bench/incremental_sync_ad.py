#!/usr/bin/env python
"""Incremental-sync benchmark against a Samba AD DC: uSNChanged runs against a full re-sync.

Run from the repository root with the project's virtualenv, as root (Samba binds
the LDAP ports of a loopback address of its own)::

    .venv/bin/python bench/incremental_sync_ad.py --users 3000 --changes 100 --database both

It starts a private Samba AD DC (``profilesync.testing.samba``), adds N users
with title, department, phone, mail and display name over LDAP, and then runs
bench/incremental_sync.py's phases on each database: a first full import, a
warm-up incremental run, (a) an incremental run with no changes, (b) one after
``--changes`` users got a new title, (c) a full re-sync. An AD directory's
incremental runs go by ``uSNChanged`` on the DC (profilesync/sync/usn.py); the
script warns when a run was not incremental or read more than the changes.
Afterwards it measures the floor with ``ldapsearch``: the changed entries by
the same ``uSNChanged`` filter, and every user, both with the attributes the
sync requests.

Sizes: adding users to Samba costs about 8 ms each whichever way (over LDAP
pipelined about 110 per second; offline through Samba's own Python bindings into
sam.ldb, one transaction or many, 95 to 140 per second, slower as the database
grows), so the default of 3,000 users loads in about half a minute. No user has
a photo (it would not change what is measured: the re-sync compares digests).

The harness is the OpenLDAP benchmark's (children, medians, CPU accounting),
with one difference: the DC forks worker processes, so its CPU ("slapd s"
column: the DC here) is that of its whole process group over each child's life,
and the "other" CPU is computed over the same span.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import incremental_sync
import ldap
from full_sync import (
    REPO_ROOT,
    CpuDelta,
    CpuSnapshot,
    busy_cpu_seconds,
    postgres_cpu_seconds,
    processes_cpu_seconds,
)
from incremental_sync import IncrementalBench, print_report, user_counts

from profilesync.testing.samba import ADMIN_DN, ADMIN_PASSWORD, BASE_DN, SambaDC, samba_version

PEOPLE_DN = f"OU=people,{BASE_DN}"
USER_FILTER = "(&(objectCategory=person)(objectClass=user))"
# What profilesync requests with the default fields on Active Directory (objectGUID plus
# the digest attributes); the floor asks for the same list.
ATTRIBUTES = ["objectGUID", "department", "displayName", "mail", "sAMAccountName",
              "telephoneNumber", "thumbnailPhoto", "title", "userAccountControl"]

PHASE_LABELS = {
    **incremental_sync.PHASE_LABELS,
    "warmup": "warm-up incremental (uSNChanged since the import)",
}


class BenchDC(SambaDC):
    """The DC under the names the harness gives its server (bind DN and password)."""

    root_dn = ADMIN_DN
    root_pw = ADMIN_PASSWORD


def phase_setup(config: dict) -> dict:
    """Create the schema and the AD directory (not timed: it is not part of a sync)."""
    from full_sync import _setup_django

    _setup_django()
    from django.core.management import call_command

    from profilesync.directories.services import create_directory

    call_command("migrate", interactive=False, verbosity=0)
    create_directory("bench", {
        "vendor": "ad", "type": "ldap", "urls": [config["ldap_uri"]],
        "bind_dn": config["bind_dn"], "bind_password": config["bind_password"],
        "base_dn": BASE_DN, "user_dn": "OU=people", "page_size": config["page_size"],
    })
    return {}


PHASES = {**incremental_sync.PHASES, "setup": phase_setup}


def group_cpu_seconds(pgid: int) -> float:
    """User plus system CPU of every live process in group ``pgid``, plus reaped children."""
    return processes_cpu_seconds(lambda name, fields: int(fields[2]) == pgid)  # pgrp


class ADIncrementalBench(IncrementalBench):
    """bench/incremental_sync.py's phases and report, on a Samba AD DC."""

    script = Path(__file__).resolve()
    phase_labels = PHASE_LABELS
    steady_state_note = ("every incremental run, the warm-up included, asks the DC for "
                         "(uSNChanged>=stored USN+1): it hears only the changes")

    @property
    def search_base(self) -> str:
        return PEOPLE_DN

    def header(self, args: argparse.Namespace) -> str:
        return header_line(args)

    # .. the directory ........................................................................
    def start_directory(self) -> None:
        self.server = BenchDC(require_strong_auth=False)  # plain LDAP, like the floor's ldapsearch
        start = time.perf_counter()
        self.server.start()
        self.notes.append(f"Samba DC on {self.server.host}: copy of the provisioned template "
                          f"and start: {time.perf_counter() - start:.1f} s")
        self.server.add_ou("people")
        start = time.perf_counter()
        self.server.add_users(
            ((f"user{i:06d}", {"title": "Engineer", "department": f"Department {i % 40}",
                               "telephoneNumber": f"+49 30 {i:06d}",
                               "mail": f"user{i:06d}@example.test",
                               "displayName": f"User {i:06d}"})
             for i in range(self.args.users)), PEOPLE_DN)
        seconds = time.perf_counter() - start
        self.notes.append(f"add {self.args.users:,} users over LDAP (pipelined): {seconds:.1f} s "
                          f"({self.args.users / seconds:.0f} per second)")

    def changed_dns(self) -> list[str]:
        step = self.args.users / self.args.changes
        return [f"CN=user{int(i * step):06d},{PEOPLE_DN}" for i in range(self.args.changes)]

    def modify_users(self, value: str) -> None:
        start = time.perf_counter()
        with self.server.admin() as conn:
            for dn in self.changed_dns():
                conn.modify_s(dn, [(ldap.MOD_REPLACE, "title", [value.encode()])])
        self.modify_seconds.append(time.perf_counter() - start)

    def highest_committed_usn(self) -> int:
        with self.server.admin() as conn:
            ((_, attributes),) = conn.search_s("", ldap.SCOPE_BASE, "(objectClass=*)",
                                               ["highestCommittedUSN"])
        return int(attributes["highestCommittedUSN"][0])

    # .. the harness's hooks: the DC's CPU is its process group's ...............................
    def child(self, phase: str, engine: str, data_dir: Path, profile: bool = False,
              extra: dict | None = None) -> dict:
        # Without a server pid the child measures no machine CPU; the parent's snapshots
        # around the child (cpu_snapshot and cpu_delta below) count the whole group.
        return super().child(phase, engine, data_dir, profile, {**(extra or {}), "slapd_pid": None})

    def cpu_snapshot(self) -> CpuSnapshot:
        return CpuSnapshot(busy_cpu_seconds(), group_cpu_seconds(self.server.process.pid),
                           postgres_cpu_seconds())

    def cpu_delta(self, before: CpuSnapshot, own_cpu: float) -> CpuDelta:
        after = self.cpu_snapshot()
        dc = after.slapd - before.slapd
        postgres = after.postgres - before.postgres
        return CpuDelta(dc, postgres, max(after.busy - before.busy - own_cpu - dc - postgres, 0.0))

    # .. the floor ...............................................................................
    def ldapsearch(self, filterstr: str, attributes: list[str]) -> tuple[float, int]:
        """Wall seconds and entries of one ldapsearch to /dev/null-like counting."""
        command = ["ldapsearch", "-x", "-LLL", "-H", self.server.ldap_uri, "-D", ADMIN_DN,
                   "-w", ADMIN_PASSWORD, "-b", PEOPLE_DN, "-E", f"pr={self.args.page_size}/noprompt",
                   filterstr, *attributes]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"ldapsearch failed: {done.stderr}")
        return seconds, sum(1 for line in done.stdout.splitlines() if line.startswith("dn:"))

    def measure_floor(self) -> None:
        """ldapsearch of the changed entries (by uSNChanged) and of every user, median of 5."""
        usn = self.highest_committed_usn()
        self.modify_users("Benchmark floor")
        changed = f"(&{USER_FILTER}(uSNChanged>={usn + 1}))"
        for label, filterstr in ((f"ldapsearch of the {self.args.changes} changed entries "
                                  f"(uSNChanged)", changed),
                                 ("ldapsearch of every user", USER_FILTER)):
            runs = []
            for _ in range(5):
                self.wait_for_idle()
                runs.append(self.ldapsearch(filterstr, ATTRIBUTES))
            runs.sort()
            seconds, entries = runs[2]
            self.floor.append(f"{label}: {seconds:.3f} s ({entries:,} entries; "
                              f"{runs[0][0]:.3f}-{runs[4][0]:.3f} s)")

    def run(self, engines: tuple[str, ...]) -> None:
        self.floor: list[str] = []
        self.start_directory()
        try:
            for engine in engines:
                self.run_database(engine)
            self.measure_floor()
        finally:
            self.server.cleanup()
        if self.modify_seconds:
            self.notes.append(f"modifying {self.args.changes} users over LDAP (not part of any "
                              f"figure): {min(self.modify_seconds):.2f}-"
                              f"{max(self.modify_seconds):.2f} s")


def header_line(args: argparse.Namespace) -> str:
    import django

    users = " and ".join(f"{n:,}" for n in args.users)
    return (f"profilesync incremental-sync benchmark on Active Directory (Samba), "
            f"{datetime.date.today().isoformat()}: {users} users, {args.changes} changes, "
            f"page size {args.page_size}, database {args.database}; {os.cpu_count()} cores, "
            f"{platform.platform(terse=True)}, Python {platform.python_version()}, "
            f"{samba_version()}, python-ldap {ldap.__version__}, Django {django.get_version()}; "
            f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=user_counts, default=[3000],
                        help="users to add to the DC; several sizes separated by commas "
                             "(default 3000; about 110 are added per second)")
    parser.add_argument("--changes", type=int, default=100,
                        help="users given a new title before the measured run (b) (default 100)")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--page-size", type=int, default=1000,
                        help="LDAP page size (default 1000, AD's own limit)")
    parser.add_argument("--postgres-url", default=incremental_sync.DEFAULT_POSTGRES_URL,
                        help="a database of the benchmark's own; it is dropped and recreated")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of (a), (b) and (c) each; the median is shown (default 3)")
    parser.add_argument("--wait-idle", type=float, default=30, metavar="SECONDS",
                        help="before each phase wait up to this long for an idle machine "
                             "(default 30; 0 turns it off)")
    parser.add_argument("--retries", type=int, default=1,
                        help="measure a disturbed first import again up to this many times")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # What the shared harness reads and this benchmark does not offer.
    args.profile, args.profiler, args.analyze_after_import = None, "pyinstrument", False
    if args.phase:
        return args
    if args.changes < 1 or args.changes > min(args.users):
        parser.error(f"--changes: give 1 to {min(args.users):,} (the smallest --users)")
    if args.repeat < 1:
        parser.error("--repeat: give at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.phase:
        config = json.loads(args.config.read_text())
        Path(config["result_file"]).write_text(json.dumps(PHASES[args.phase](config)))
        return
    engines = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    work_dir = Path(tempfile.mkdtemp(prefix="profilesync-bench-incremental-ad-"))
    benches: list[ADIncrementalBench] = []
    try:
        for users in args.users:
            size_args = argparse.Namespace(**{**vars(args), "users": users})
            size_dir = work_dir / str(users)
            size_dir.mkdir()
            bench = ADIncrementalBench(size_args, size_dir)
            benches.append(bench)
            bench.run(engines)
        print_report(args, benches, engines)
        print()
        print("floor (the same attributes the sync requests, plain LDAP, median of 5)")
        for bench in benches:
            for line in bench.floor:
                print(f"  {bench.args.users:>9,} users  {line}")
        if args.json:
            Path(args.json).write_text(json.dumps({
                "header": header_line(args),
                "sizes": {b.args.users: {"notes": b.notes, "warnings": b.warnings, "floor": b.floor,
                                         "rows": [asdict(r) for r in b.rows]} for b in benches},
            }, indent=2, default=str))
    finally:
        for bench in benches:
            if bench.server is not None:
                bench.server.cleanup()
        if args.keep:
            print(f"work directory kept: {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    os.chdir(REPO_ROOT)
    main()
