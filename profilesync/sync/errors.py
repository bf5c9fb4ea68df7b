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
            f"limit of {limit_share:.0%}. If the directory really lost these users, run "
            f"`profilesync sync --full --force`; otherwise check the base DN, the "
            f"additional user DN and the user filter"
        )
