"""One directory's part of a run, as one object the passes share.

What every pass needs (the connection, the directory, the attribute map, the
counts, ``force``, the batch size, the progress callback) lives here once
instead of travelling through every function's arguments, as authentik's
synchronizer keeps its source and connection on the instance. It also owns
what the part learns on the way: the page size the server allows, and the
notes the report shows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from django.conf import settings

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import Connection
from profilesync.ldapclient.range_retrieval import complete_page
from profilesync.ldapclient.search import Page, paged_search

from .fieldmap import AttributeMap
from .importer import ImportCounts, deactivate

ProgressCallback = Callable[[ImportCounts], None]


@dataclass
class DirectoryPass:
    conn: Connection
    directory: Directory
    attribute_map: AttributeMap
    counts: ImportCounts = field(default_factory=ImportCounts)
    force: bool = False
    batch_size: int = field(default_factory=lambda: settings.PROFILESYNC_SYNC_BATCH_SIZE)
    progress: ProgressCallback | None = None
    # Sentences for the report about what this part learned (page size, ...).
    notes: list[str] = field(default_factory=list)
    # The page size the server allowed, when it refused the configured one.
    page_size_limit: int | None = None

    @property
    def page_size(self) -> int:
        return self.page_size_limit or self.directory.page_size

    def pages(self, filterstr: str, attributes: list[str]) -> Iterator[Page]:
        """Pages of the directory's users matching ``filterstr``, in the page size allowed."""
        pages = paged_search(self.conn, self.directory.search_base, filterstr, attributes,
                             page_size=self.page_size, on_page_limit=self.server_allows)
        if not self.directory.vendor_info.ranged_values:
            return pages
        # AD sends a large multi-valued attribute in slices (member;range=0-1499): read them all
        # before the digest and the mapping see the entry.
        return (complete_page(self.conn, page) for page in pages)

    def server_allows(self, size: int) -> None:
        """The server allows at most ``size`` entries per page: use and report it."""
        if size >= self.page_size:
            return
        self.page_size_limit = size
        self.notes[:] = [n for n in self.notes if not n.startswith("the server allows")]
        self.notes.append(f"the server allows at most {size} entries per page; the directory's "
                          f"page size is now {size}")

    def deactivate(self, pks: list[int], how: str) -> None:
        """Deactivate ``pks`` now, counted under ``how``; the guard weighs the part at its end."""
        deactivate(pks, self.counts, batch_size=self.batch_size, how=how)

    def report_progress(self) -> None:
        if self.progress is not None:
            self.progress(self.counts)
