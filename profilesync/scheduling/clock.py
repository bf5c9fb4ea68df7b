"""One clock for every worker: the database server's.

Lease expiry and due slots are compared across machines; taking "now" from the
database they all share means a worker whose own clock is off neither takes over
a live lease early nor runs a slot late. SQLite has no server: its clock is the
machine's, which is the only machine an SQLite installation has.
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.utils import timezone


def database_now() -> datetime:
    """The current instant (aware) by the database's clock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # statement_timestamp, not now(): now() stays fixed for a whole transaction.
            cursor.execute("SELECT statement_timestamp()")
            return cursor.fetchone()[0]
    return timezone.now()
