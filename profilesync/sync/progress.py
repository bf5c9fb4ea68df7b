"""Progress of a running sync, visible to every process while the run is going.

A directory's rows are written in one transaction, so other processes cannot
see its counts grow in the database until it commits. After every page the
runner publishes the counts to the cache instead (files on one machine, Redis
across several), and the report pages read them from there.
"""

from __future__ import annotations

from django.core.cache import cache

from .importer import ImportCounts

TTL_SECONDS = 24 * 3600


def _key(run_id: int) -> str:
    return f"profilesync:sync-progress:{run_id}"


def publish_progress(run_id: int, directory_name: str, counts: ImportCounts) -> None:
    progress = cache.get(_key(run_id)) or {}
    progress[directory_name] = {
        "read": counts.created + counts.updated + counts.unchanged + counts.failed,
        "created": counts.created, "updated": counts.updated,
        "unchanged": counts.unchanged, "failed": counts.failed,
    }
    cache.set(_key(run_id), progress, TTL_SECONDS)


def read_progress(run_id: int) -> dict[str, dict[str, int]]:
    """Counts so far per directory name; empty when nothing was published."""
    return cache.get(_key(run_id)) or {}
