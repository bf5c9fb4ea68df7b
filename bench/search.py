#!/usr/bin/env python
"""People-search benchmark: the search function and a whole HTTP request, at N profiles.

Run from the repository root with the project's virtualenv::

    .venv/bin/python bench/search.py --profiles 100000 --database both

For each database it makes a database of its own (a SQLite file in a temporary
folder; on PostgreSQL the database named by ``--postgres-url``, created here and
dropped at the end), migrates it and writes N generated people
(``profilesync.demo.people``, one in twenty deactivated) through the sync's bulk
writer, ``profilesync.sync.writer.insert_rows``, one transaction as a sync does,
with the database keeping its search index meanwhile. No directory is needed.
On PostgreSQL the table is then vacuumed and analysed, as autovacuum would.

Then, for each query, after warm-up runs, it times R runs of:

* ``search``: ``profilesync.profiles.search.query.search_people``, the count and
  one page of 48 profiles loaded;
* ``http``: ``GET /?q=…`` through Django's test client, logged in, sent as htmx
  sends it while a person types (the results fragment; the listing with nothing
  typed is the whole page): session, user, fields, filter choices, search, template;
* ``api``: ``GET /api/v1/people?q=…`` through the same client and session, the
  REST API's answer of the same page as JSON.

It prints the median and p95 (nearest rank) in milliseconds, with the target
(50 ms for a name prefix and for a word of a searchable field) and the floor:
the same request for a word nobody has, i.e. everything of a request but the
search's own work. It also times what the search costs elsewhere: the writer
filling the table with and without the index, computing the search columns in
Python, rebuilding every search text (an administrator making a field
unsearchable), and the department filter's choices on a cold cache.

Nothing here asserts a timing. The machine is shared: the load average before
and after each database is printed beside the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/bench_search"
PROTECTED_DATABASES = {"postgres", "template0", "template1", "test"}
TARGET_MS = 50.0
PAGE_ROWS = 1000  # rows per insert_rows call, like a sync's page
INACTIVE_EVERY = 20
ORG_FAN_OUT = 8  # direct reports per manager in the generated org chart
ORG_TARGET_MS = 100.0

# (label, what is typed, filters, page, kind). Kind "target" rows are the targets.
QUERIES = [
    ("name prefix 'ann'", "ann", {}, 1, "target"),
    ("name prefix 'kowal'", "kowal", {}, 1, "target"),
    ("name prefix 'soren' (Søren)", "soren", {}, 1, "target"),
    ("name prefix 'zo' (last in name order)", "zo", {}, 1, "target"),
    ("two name prefixes 'anna smi'", "anna smi", {}, 1, "target"),
    ("field word 'engineer' (title)", "engineer", {}, 1, "target"),
    ("field word 'finance' (department)", "finance", {}, 1, "target"),
    ("field word 'accountant' (title)", "accountant", {}, 1, "target"),
    ("one letter 'a'", "a", {}, 1, "info"),
    ("filter department=Finance", "", {"department": "Finance"}, 1, "info"),
    ("filter Finance + 'ann'", "ann", {"department": "Finance"}, 1, "info"),
    ("'engineer', page 10", "engineer", {}, 10, "info"),
    ("listing, nothing typed (whole page)", "", {}, 1, "info"),
    ("a word nobody has (the floor)", "zzqx", {}, 1, "floor"),
]


# -- the child: one database ------------------------------------------------------------------

def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(round(share * len(ordered) + 0.5)) - 1)]


def timed(action, runs: int, warmup: int) -> dict:
    for _ in range(warmup):
        action()
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(samples), "p95_ms": percentile(samples, 0.95)}


def generated_rows(count: int):
    from profilesync.demo.people import generate_people
    from profilesync.sync.writer import ProfileRow

    people = list(generate_people(count, photo_share=0.0))
    for index, person in enumerate(people):
        active = index % INACTIVE_EVERY != INACTIVE_EVERY - 1
        # A tree of teams of ORG_FAN_OUT: person i reports to person (i - 1) // ORG_FAN_OUT.
        manager = people[(index - 1) // ORG_FAN_OUT].uid if index else None
        yield ProfileRow(
            unique_id=f"bench-{index}", username=person.uid,
            dn=f"uid={person.uid},ou=people,dc=example,dc=org",
            display_name=person.display_name,
            values={"display_name": person.display_name, "title": person.title,
                    "department": person.department, "phone": person.phone,
                    "mail": person.mail,
                    **({"manager": f"uid={manager},ou=people,dc=example,dc=org"}
                       if manager else {})},
            picture="", digest="", active=active,
            deactivated_at=None if active else datetime_now())


def datetime_now():
    from django.utils import timezone

    return timezone.now()


def fill(directory_id: int, count: int) -> float:
    """Write ``count`` people through the sync's writer in one transaction; seconds taken."""
    from django.db import transaction

    from profilesync.sync.writer import insert_rows

    rows = list(generated_rows(count))
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, count, PAGE_ROWS):
            insert_rows(rows[start:start + PAGE_ROWS], directory_id, datetime_now())
    return time.perf_counter() - started


def link(directory_id: int, count: int) -> float:
    """Resolve every generated manager as the sync does after each page; seconds taken."""
    from django.db import transaction

    from profilesync.profiles.person_links import page_job
    from profilesync.sync.background_writes import run_now

    rows = list(generated_rows(count))
    started = time.perf_counter()
    with transaction.atomic():
        for start in range(0, count, PAGE_ROWS):
            run_now(page_job(directory_id, rows[start:start + PAGE_ROWS]))
    return time.perf_counter() - started


def org_people(count: int) -> list[tuple[str, str]]:
    """(label, unique ID) of the people whose org chart pages are timed."""
    deep = count - 2  # a leaf at the bottom of the tree: the longest chain
    middle = (count // ORG_FAN_OUT) // ORG_FAN_OUT  # a manager of managers
    return [("CEO (top, 8 reports)", "bench-0"),
            ("middle manager (8 reports)", f"bench-{middle}"),
            ("leaf at the bottom (longest chain)", f"bench-{deep}")]


def empty_profiles() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE profiles_profile CASCADE")
        else:
            cursor.execute("DELETE FROM profiles_profile")


def settle() -> None:
    """What a live database does on its own after a bulk write (autovacuum, ANALYZE)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE profiles_profile")


def run_child(config: dict) -> dict:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from profilesync.directories.models import Directory
    from profilesync.profiles.models import Profile, ProfileField
    from profilesync.profiles.search import index
    from profilesync.profiles.search.choices import stored_values
    from profilesync.profiles.search.columns import load_search_fields
    from profilesync.profiles.search.query import Criteria, search_people
    from profilesync.profiles.search.text import query_words, search_columns
    from profilesync.profiles.services import update_field

    count, runs, warmup = config["profiles"], config["runs"], config["warmup"]
    result: dict = {"engine": connection.vendor, "profiles": count,
                    "load_before": os.getloadavg()[0]}
    call_command("migrate", verbosity=0)
    directory = Directory.objects.create(name="bench", urls=["ldap://127.0.0.1:1"])

    # The writer without and with the search index (the database maintaining it).
    index.uninstall(connection)
    result["fill_without_index_s"] = fill(directory.pk, count)
    empty_profiles()
    index.install(connection)
    result["fill_s"] = fill(directory.pk, count)
    result["link_s"] = link(directory.pk, count)
    settle()

    fields = load_search_fields()
    stored = list(Profile.objects.values_list("display_name", "username", "values",
                                              "local_values"))
    started = time.perf_counter()
    for display_name, username, values, local_values in stored:
        search_columns(display_name, username, values, local_values, fields)
    result["columns_python_s"] = time.perf_counter() - started
    del stored
    result["active"] = Profile.objects.filter(active=True).count()

    department = ProfileField.objects.get(key="department")
    started = time.perf_counter()
    choices = stored_values(department.key)
    result["choices_cold_ms"] = (time.perf_counter() - started) * 1000
    result["choices"] = len(choices)

    user = get_user_model().objects.create_user("bench-reader", password="bench-pw-not-secret")
    client = Client()
    client.force_login(user)
    rows = []
    for label, typed, filters, page, kind in QUERIES:
        criteria = Criteria(words=tuple(query_words(typed)),
                            filters=tuple(sorted(filters.items())))
        found = search_people(criteria, page)
        params = {"q": typed, **{f"f-{key}": value for key, value in filters.items()}}
        if page > 1:
            params["page"] = str(page)
        headers = {} if criteria.is_listing else {"HTTP_HX_REQUEST": "true"}

        def get(params=params, headers=headers) -> None:
            response = client.get("/", params, **headers)
            assert response.status_code == 200, response.status_code

        api_params = {"q": typed, "page": str(page),
                      "filter": [f"{key}={value}" for key, value in filters.items()]}

        def get_api(params=api_params) -> None:
            response = client.get("/api/v1/people", params)
            assert response.status_code == 200, response.status_code

        rows.append({
            "label": label, "kind": kind,
            "matches": found.total, "exact": found.total_exact, "shown": len(found.people),
            "search": timed(lambda c=criteria, p=page: search_people(c, p), runs, warmup),
            "http": timed(get, runs, warmup),
            "api": timed(get_api, runs, warmup),
        })
    result["queries"] = rows

    # The org chart: a person's page (chain up to the top, one level of reports with
    # their team sizes) and one level opened; the floor is the top of the chart page
    # for a leaf's (empty) level: session, user, the manager field, no reports.
    org_rows = []
    for label, unique_id in org_people(count):
        pk = Profile.objects.get(unique_id=unique_id).pk

        def page(pk=pk) -> None:
            response = client.get(f"/org/{pk}/")
            assert response.status_code == 200, response.status_code

        def level(pk=pk) -> None:
            response = client.get(f"/org/{pk}/reports")
            assert response.status_code == 200, response.status_code

        org_rows.append({"label": label, "person": timed(page, runs, warmup),
                         "level": timed(level, runs, warmup)})
    result["org"] = org_rows

    # An administrator makes the job title unsearchable: every search text is rebuilt.
    title = ProfileField.objects.get(key="title")
    started = time.perf_counter()
    update_field(title, {"searchable": False})
    result["rebuild_s"] = time.perf_counter() - started
    cache.clear()
    result["load_after"] = os.getloadavg()[0]
    return result


# -- the parent ---------------------------------------------------------------------------------

def postgres_admin_url(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name or name in PROTECTED_DATABASES:
        raise SystemExit(f"--postgres-url: refusing to create and drop database {name!r}; "
                         "name a database of its own, e.g. .../bench_search")
    return urlunsplit(parts._replace(path="/postgres")), name


def run_engine(engine: str, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="profilesync-bench-search-") as work:
        work_dir = Path(work)
        config = {"profiles": args.profiles, "runs": args.runs, "warmup": args.warmup}
        config_path = work_dir / "config.json"
        result_path = work_dir / "result.json"
        config_path.write_text(json.dumps(config))
        env = {**os.environ, "PROFILESYNC_DATA_DIR": str(work_dir / "data"),
               "PROFILESYNC_MEDIA_DIR": str(work_dir / "media"),
               "DJANGO_SETTINGS_MODULE": "profilesync.settings"}
        env.pop("PROFILESYNC_DATABASE_URL", None)
        env.pop("PROFILESYNC_REDIS_URL", None)
        drop = None
        if engine == "postgres":
            import psycopg

            admin_url, name = postgres_admin_url(args.postgres_url)
            with psycopg.connect(admin_url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.execute(f'CREATE DATABASE "{name}"')

            def drop() -> None:
                with psycopg.connect(admin_url, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

            env["PROFILESYNC_DATABASE_URL"] = args.postgres_url
        try:
            subprocess.run([sys.executable, __file__, "--child", str(config_path),
                            "--result", str(result_path)], env=env, cwd=REPO_ROOT, check=True)
            return json.loads(result_path.read_text())
        finally:
            if drop is not None:
                drop()


def cell(figures: dict) -> str:
    return f"{figures['median_ms']:6.1f} {figures['p95_ms']:6.1f}"


def verdict(row: dict) -> str:
    if row["kind"] == "floor":
        return "floor"
    if row["kind"] != "target":
        return ""
    worst = max(row["search"]["p95_ms"], row["http"]["p95_ms"], row["api"]["p95_ms"])
    return "ok" if worst < TARGET_MS else f"over {TARGET_MS:.0f}"


def print_report(results: list[dict], args: argparse.Namespace) -> None:
    print(f"\npeople search, {args.profiles:,} profiles; {platform.node()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}; median and p95 of {args.runs} runs "
          f"after {args.warmup} warm-up runs, in ms")
    for result in results:
        engine = "SQLite" if result["engine"] == "sqlite" else "PostgreSQL"
        print(f"\n{engine}: {result['active']:,} active of {result['profiles']:,}; load average "
              f"{result['load_before']:.2f} before, {result['load_after']:.2f} after")
        print(f"  {'query':40} {'matches':>8}  {'search med p95':>14}  {'http med p95':>14}  "
              f"{'api med p95':>14}  target {TARGET_MS:.0f} ms (p95)")
        floor = next(row for row in result["queries"] if row["kind"] == "floor")
        for row in result["queries"]:
            matches = f"{row['matches']:,}" + ("" if row["exact"] else "+")
            print(f"  {row['label']:40} {matches:>8}  {cell(row['search']):>14}  "
                  f"{cell(row['http']):>14}  {cell(row['api']):>14}  {verdict(row)}")
        print(f"  floor (http, a word nobody has): {cell(floor['http']).strip()} ms, "
              f"api {cell(floor['api']).strip()} ms; "
              "'+': more match, counted up to the limit")
        print(f"  writer, {result['profiles']:,} rows in one transaction: {result['fill_s']:.2f} s "
              f"with the search index, {result['fill_without_index_s']:.2f} s without; search "
              f"columns computed in Python: {result['columns_python_s']:.2f} s of it")
        print(f"  rebuild of every search text (a field made unsearchable): "
              f"{result['rebuild_s']:.2f} s")
        print(f"  org chart, {ORG_FAN_OUT} reports per manager: {'person':>22}  "
              f"{'http med p95':>14}  {'one level med p95':>18}  target {ORG_TARGET_MS:.0f} ms")
        for row in result["org"]:
            worst = max(row["person"]["p95_ms"], row["level"]["p95_ms"])
            print(f"  {'':38}{row['label']:>24}  {cell(row['person']):>14}  "
                  f"{cell(row['level']):>18}  "
                  f"{'ok' if worst < ORG_TARGET_MS else f'over {ORG_TARGET_MS:.0f}'}")
        print(f"  manager links resolved after each page of {PAGE_ROWS:,} (as the sync does): "
              f"{result['link_s']:.2f} s for {result['profiles']:,} people")
        print(f"  department filter choices from stored values, cold cache: "
              f"{result['choices_cold_ms']:.0f} ms ({result['choices']} values; cached afterwards)")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL,
                        help="a database of the benchmark's own: created and dropped "
                             f"(default {DEFAULT_POSTGRES_URL})")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--result", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        result = run_child(json.loads(Path(args.child).read_text()))
        Path(args.result).write_text(json.dumps(result))
        return
    if args.profiles < 1 or args.runs < 1:
        raise SystemExit("--profiles and --runs must be at least 1")
    engines = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    results = [run_engine(engine, args) for engine in engines]
    print_report(results, args)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
