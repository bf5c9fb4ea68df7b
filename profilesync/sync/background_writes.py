"""A full pass's writes on a second thread, in the same transaction as everything else.

Reading the directory, mapping and building rows is Python holding the GIL;
executing the statements is mostly not: SQLite's C code runs with the GIL
released, and on PostgreSQL the client waits while the server parses, checks
and indexes the copied rows (7 s of server CPU for a first import of 100,000
people, during which the sync stood still). Handing each page's statements to
a worker thread lets page k be written while page k+1 is read and planned, on
the machine's other core.

The worker uses the very database connection of the caller's transaction
(Django's connections are per thread, so a thread of its own would have
opened another connection and another transaction): the DB-API connection
under Django's, through :class:`RawCursor`. At most one page waits while one
is written, so memory stays page-sized. A failure in the worker stops the
following writes and is raised in the caller at its next submission or when
the block ends, before the transaction can commit.

``write(job)`` takes a callable of a cursor; :data:`run_now` is the
synchronous stand-in every other caller (incremental pass, one person) uses.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType

from django.db import connection

Job = Callable[[object], None]


def run_now(job: Job) -> None:
    """Execute ``job`` at once in this thread, with the same kind of cursor as the worker's."""
    connection.ensure_connection()
    job(RawCursor(connection.connection, connection.vendor))


class RawCursor:
    """What :mod:`profilesync.profiles.search.bulk` needs of a cursor, on the raw connection.

    SQLite's DB-API cursor takes ``?`` placeholders where Django's wrapper takes
    ``%s``; on PostgreSQL a server-binding psycopg cursor is used, so values
    (pictures' bytes included) travel as parameters. ``cursor`` is the DB-API
    cursor itself (``COPY`` needs it).
    """

    def __init__(self, raw_connection, vendor: str):
        self.vendor = vendor
        if vendor == "postgresql":
            import psycopg

            self.cursor = psycopg.Cursor(raw_connection)
        else:
            self.cursor = raw_connection.cursor()

    def _sql(self, sql: str) -> str:
        if self.vendor == "sqlite":
            return sql.replace("%s", "?").replace("%%", "%")
        return sql

    def execute(self, sql: str, params=None) -> None:
        self.cursor.execute(self._sql(sql), params or ())

    def executemany(self, sql: str, rows) -> None:
        self.cursor.executemany(self._sql(sql), rows)


class BackgroundWrites:
    """``with BackgroundWrites() as write: write(job)`` — jobs run in order on one worker thread."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Job | None] = queue.Queue(maxsize=1)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> BackgroundWrites:
        connection.ensure_connection()
        cursor = RawCursor(connection.connection, connection.vendor)
        self._thread = threading.Thread(target=self._work, args=(cursor,),
                                        name="profilesync-writes", daemon=True)
        self._thread.start()
        return self

    def __call__(self, job: Job) -> None:
        self._raise_failure()
        self._jobs.put(job)

    def _work(self, cursor: RawCursor) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is None:
                try:
                    job(cursor)
                except BaseException as exc:  # handed to the caller's thread
                    self._error = exc

    def _raise_failure(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._jobs.put(None)
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            # The worker's failure is the cause: on PostgreSQL it aborts the transaction,
            # and the caller's next query then fails with "transaction is aborted".
            error, self._error = self._error, None
            raise error from exc
