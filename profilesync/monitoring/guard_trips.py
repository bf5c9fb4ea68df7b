"""Reading a tripped deactivation guard out of a directory's run result.

The runner records the guard's refusal as the result's error message (its text
begins with ``GUARD_MESSAGE_START``, see ``sync.errors.DeactivationGuardTripped``).
Who would have been deactivated is taken from the result's ``would_deactivate``
list, or the error entry's, when the report holds one (``rules.failed_runs``);
otherwise the message states how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GUARD_MESSAGE_START = "stopped before deactivating anyone"


@dataclass(frozen=True)
class GuardTrip:
    message: str
    would_deactivate: list[str] = field(default_factory=list)


def guard_trip(errors: list | None) -> GuardTrip | None:
    """The guard's refusal among a result's ``errors``, or None."""
    for error in errors or []:
        if not isinstance(error, dict):
            continue
        message = str(error.get("message", ""))
        if message.startswith(GUARD_MESSAGE_START) or error.get("kind") == "deactivation_guard":
            people = error.get("would_deactivate") or []
            return GuardTrip(message, [str(person) for person in people])
    return None
