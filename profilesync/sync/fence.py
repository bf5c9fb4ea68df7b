"""Fencing: a run commits only while it still holds the right to run.

A run started under the cluster-wide sync lease (``scheduling.exclusive``) can
stall past its lease (a paused VM, SIGSTOP, a long SQLite transaction) and be
taken over. When it resumes it must not commit beside the run that took over.
So every commit of a run calls :func:`check` *inside the transaction it is about
to commit*; under a lease that check is a conditional UPDATE of the lease row
``WHERE generation = <the run's token>``, which both proves the lease is still
the run's and locks the row (the write lock on SQLite) until the commit, so no
takeover can slip in between the check and the commit. A run that lost its
lease gets :class:`RunSuperseded`, its transaction rolls back, and the run stops.

The sync layer knows nothing of leases: the holder installs its check for the
current thread with :func:`fenced_by`; without one (a plain ``run_sync`` call in
a test or a shell) :func:`check` does nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_current = threading.local()


class RunSuperseded(BaseException):
    """This run lost its lease (fencing token) to another run; it must not commit.

    A ``BaseException``, like ``SystemExit``: it is not a failure of the directory
    being synced but the end of the whole run, so no per-directory handler that
    records a failure and goes on to the next directory may catch it.

    ``token`` is the lease generation the run held; ``holder`` who holds the
    lease now (``""`` when it has been released again) and ``generation`` its
    current generation.
    """

    def __init__(self, message: str, *, token: int, holder: str, generation: int):
        super().__init__(message)
        self.token = token
        self.holder = holder
        self.generation = generation


@contextmanager
def fenced_by(checker: Callable[[], None]) -> Iterator[None]:
    """Run the body with ``checker`` as this thread's fence (it raises ``RunSuperseded``)."""
    previous = getattr(_current, "checker", None)
    _current.checker = checker
    try:
        yield
    finally:
        _current.checker = previous


def check() -> None:
    """Raise ``RunSuperseded`` if this thread's run lost its lease; call inside the commit."""
    checker = getattr(_current, "checker", None)
    if checker is not None:
        checker()
