"""Fresh planner statistics on PostgreSQL after a run that changed much of a directory.

A first import fills the profile table in one transaction; until the table is
analyzed PostgreSQL believes it nearly empty and answers the sync's per-page
lookup (``unique_id IN (…)`` of one directory) by scanning every profile of
the directory: 125 ms a page at 100,000 profiles instead of 0.7 ms. Autovacuum
analyzes a table a minute or so after such a load, but a run right after the
import, or a server with autovacuum off, would pay it. So the runner analyzes
the table itself after a directory's run created, updated or deactivated
more than a tenth of its profiles (autovacuum's own default share); it took
0.5 s at 100,000 profiles. SQLite's planner picks the unique index without
statistics.
"""

from __future__ import annotations

import logging

from django.db import connection

from profilesync.directories.models import Directory
from profilesync.profiles.models import Profile

from .importer import ImportCounts

log = logging.getLogger(__name__)

# A run that changed fewer rows than this never analyzes (an incremental run's
# cost stays flat); autovacuum looks after slow drift.
MIN_CHANGED = 1000
CHANGED_SHARE = 0.1


def refresh_planner_statistics(directory: Directory, counts: ImportCounts) -> bool:
    """``ANALYZE`` the profile table when the run changed a large share of ``directory``.

    Called after the directory's transaction committed; returns whether it ran.
    """
    if connection.vendor != "postgresql":
        return False
    changed = counts.created + counts.updated + counts.deactivated
    if changed < MIN_CHANGED:
        return False
    stored = Profile.objects.filter(directory=directory).count()
    if changed <= CHANGED_SHARE * stored:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Profile._meta.db_table)}")
    log.info("analyzed the profile table directory=%s changed=%s profiles=%s",
             directory.name, changed, stored)
    return True
