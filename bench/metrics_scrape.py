#!/usr/bin/env python
"""What one /metrics scrape costs, at N profiles and R recorded directory runs.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/metrics_scrape.py --profiles 100000 --runs 5000

It makes a SQLite database of its own in a temporary folder (or uses
``--database-url``, an empty PostgreSQL database it may fill), migrates it,
writes N profiles of one directory (one in twenty inactive) with ``bulk_create``
and R directory run results (one in ten failed, durations spread from 1 s to
20 min), 200 write audit rows and 50 pending writes, then times, after a
warm-up, S scrapes of the whole page (``generate_latest`` of the registry the
view uses: every process's HTTP counters plus the figures from the database).
The floor is one ``COUNT(*)`` of the profile table, the least any per-directory
profile figure costs. Prints median and
p95 (nearest rank) in milliseconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5_000)
    parser.add_argument("--scrapes", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="profilesync-bench-metrics-")
    os.environ["PROFILESYNC_DATA_DIR"] = folder
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(folder, "metrics")
    if args.database_url:
        os.environ["PROFILESYNC_DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "profilesync.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from prometheus_client import generate_latest

    from profilesync.directories.models import Directory
    from profilesync.monitoring.views import metrics_registry
    from profilesync.profiles.models import Profile
    from profilesync.sync.models import DirectoryRunResult, RunStatus, SyncRun

    call_command("migrate", verbosity=0)
    directory = Directory.objects.create(name="bench", urls=["ldap://127.0.0.1:1"],
                                         base_dn="dc=example,dc=org")
    started = time.perf_counter()
    batch = []
    for i in range(args.profiles):
        batch.append(Profile(directory=directory, unique_id=f"id-{i}", username=f"u{i:07d}",
                             dn=f"uid=u{i:07d},ou=people,dc=example,dc=org",
                             active=i % 20 != 0, display_name=f"Person {i}"))
        if len(batch) == 5000:
            Profile.objects.bulk_create(batch)
            batch = []
    Profile.objects.bulk_create(batch)
    now = timezone.now()
    run = SyncRun.objects.create(started_at=now, finished_at=now, mode="full", status="succeeded")
    DirectoryRunResult.objects.bulk_create([DirectoryRunResult(
        run=run, directory=directory, directory_name="bench", mode="incremental" if i % 3 else "full",
        status=RunStatus.FAILED if i % 10 == 0 else RunStatus.SUCCEEDED, created=i % 7, updated=i % 5,
        started_at=now - timedelta(seconds=1 + (i * 37) % 1200), finished_at=now,
        errors=[{"dn": "", "message": "stopped before deactivating anyone: ..."}] if i % 50 == 0 else [])
        for i in range(args.runs)], batch_size=2000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"{connection.vendor}: {args.profiles} profiles, {args.runs} run results written in "
          f"{time.perf_counter() - started:.1f} s")

    for name, scrape in (("whole page", lambda: generate_latest(metrics_registry())),
                         ("floor: COUNT(*) of profiles", Profile.objects.count)):
        for _ in range(3):
            scrape()
        times = []
        for _ in range(args.scrapes):
            begin = time.perf_counter()
            scrape()
            times.append((time.perf_counter() - begin) * 1000)
        times.sort()
        p95 = times[max(0, int(round(0.95 * len(times))) - 1)]
        print(f"  {name:<28} median {statistics.median(times):7.1f} ms   p95 {p95:7.1f} ms")
    print(f"  load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
