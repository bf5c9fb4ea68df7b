"""Failures that stop one directory's part of a run (configuration, not data)."""

from __future__ import annotations


class SyncRefused(Exception):
    """The directory's type cannot be synced; the message says why."""


class DeactivationGuardTripped(Exception):
    """A run would deactivate more users than the directory allows at once."""

    def __init__(self, would_deactivate: int, active: int, limit_share: float):
        self.would_deactivate = would_deactivate
        self.active = active
        self.limit_share = limit_share
        share = would_deactivate / active if active else 1.0
        super().__init__(
            f"stopped before deactivating anyone: this run would deactivate "
            f"{would_deactivate} of {active} active users ({share:.0%}), more than the "
            f"limit of {limit_share:.0%}. If the directory really lost these users, run a "
            f"full sync with \"force\" (the sync report page's Run now, or "
            f"`profilesync sync --full --force`); otherwise check the base DN, the "
            f"additional user DN and the user filter"
        )


class PatternNotUnderstood(Exception):
    """The directory matched nothing with the configured timestamp pattern, but
    matches entries for the same instant in plain generalized time."""

    def __init__(self, pattern: str, sent_filter: str, canonical_filter: str):
        self.pattern = pattern
        super().__init__(
            f"the directory does not understand the timestamp pattern {pattern!r}: "
            f"{sent_filter} matched no entries, while the same instant written as "
            f"{canonical_filter} matches some. Nothing was imported and the watermark was "
            f"not moved; set a pattern the directory understands, e.g. yyyyMMddHHmmssZ, "
            f"as the directory's timestamp pattern (Directories page, or "
            f"`profilesync directory set NAME --timestamp-pattern yyyyMMddHHmmssZ`)"
        )
