"""Failures that stop one directory's part of a run (configuration, not data).

Every one is a :class:`~profilesync.ldapclient.errors.DirectoryError`: one
family, each carrying the setting to check and a hint, so the runner catches
one base class and every edge shows the same advice.
"""

from __future__ import annotations

from profilesync.ldapclient.errors import DirectoryError


class SyncRefused(DirectoryError):
    """The directory's type cannot be synced; the message says why."""

    setting = "type"
    hint = ""


class DeactivationGuardTripped(DirectoryError):
    """A directory's part would deactivate more users than the directory allows.

    ``limit`` says which limit: ``"run"`` (the share of one run) or ``"24h"``
    (the rolling window). ``would_deactivate`` lists who (user names).
    """

    setting = "max_deactivate_percent"
    hint = ""

    def __init__(self, count: int, base: int, limit_share: float, *, limit: str = "run",
                 earlier: int = 0, floor: int = 0, would_deactivate: list[str] | None = None):
        self.count = count
        self.base = base
        self.limit_share = limit_share
        self.limit = limit
        self.would_deactivate = would_deactivate or []
        share = (count + earlier) / base if base else 1.0
        if limit == "run":
            what = (f"this run would deactivate {count} of {base} active users ({share:.0%}), "
                    f"more than the limit of {limit_share:.0%} per run")
        else:
            self.setting = "max_deactivate_percent_24h"
            what = (f"this run would deactivate {count} users, and {earlier} were deactivated "
                    f"in the last 24 hours: {count + earlier} of {base} ({share:.0%}), more "
                    f"than the limit of {limit_share:.0%} per 24 hours")
        super().__init__(
            f"stopped before deactivating anyone: {what} (up to {floor} may always go). "
            f"If the directory really lost these users, run a full sync with \"force\" (the "
            f"sync report page's Run now, or `profilesync sync --full --force`); otherwise "
            f"check the base DN, the additional user DN and the user filter"
        )


class PatternNotUnderstood(DirectoryError):
    """The directory matched nothing with the configured timestamp pattern, but
    matches entries for the same instant in plain generalized time."""

    setting = "timestamp_pattern"
    hint = ""

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


class PatternRefused(DirectoryError):
    """The stored timestamp pattern is refused (saved before the checks that refuse it now)."""

    setting = "timestamp_pattern"
    hint = ("set a pattern such as yyyyMMddHHmmssZ (Directories page, or "
            "`profilesync directory set NAME --timestamp-pattern yyyyMMddHHmmssZ`)")
