"""The deactivation guard: weighs every deactivation of a directory's part before it commits.

Whatever found them (a full sync's sweep, syncrepl, the sweep of unique IDs,
AD's deleted objects or its disabled flag, a reconciliation), a part's
deactivations are counted in :class:`~.importer.ImportCounts` and weighed
here once, at the end of the part, inside its transaction; a tripped guard
raises, and the runner rolls the whole part back. Two limits:

* per run: at most ``max_deactivate_share`` of the active users when the part began;
* per 24 hours: with the deactivations of the last 24 hours' successful runs,
  at most ``max_deactivate_share_24h`` of the users active before them, so runs
  that each stay under the first limit cannot deactivate most people one after
  the other.

Up to ``deactivation_floor`` people may always go, so a directory of four is
not stopped by one deletion. ``force`` passes the guard for one run.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Sum
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.profiles.models import Profile

from .errors import DeactivationGuardTripped
from .importer import ImportCounts
from .models import DirectoryRunResult, RunStatus

WINDOW = timedelta(hours=24)
MAX_LISTED = 100  # names listed in the report of a tripped guard


def active_count(directory: Directory) -> int:
    """Active profiles of ``directory`` now."""
    return Profile.objects.filter(directory=directory, active=True).count()


def active_at_start(directory: Directory, counts: ImportCounts) -> int:
    """The guard's base, the users active when the part began, counted at its end.

    Counted only when the part deactivated someone: a count of every active
    profile took 0.08 to 0.2 s at 100,000 on SQLite, more than an incremental
    run with 100 changes needs altogether. Active now plus those this part
    deactivated, less those it created.
    """
    deactivated = len(set(counts.deactivated_pks))
    return max(active_count(directory) + deactivated - counts.created, deactivated)


def deactivated_in_window(directory: Directory) -> int:
    """Deactivations by successful runs of ``directory`` that finished in the last 24 hours."""
    since = timezone.now() - WINDOW
    total = (DirectoryRunResult.objects
             .filter(directory=directory, status=RunStatus.SUCCEEDED, finished_at__gte=since)
             .aggregate(total=Sum("deactivated"))["total"])
    return total or 0


def check(directory: Directory, counts: ImportCounts, started_with: int | None = None, *,
          force: bool) -> None:
    """Raise :class:`DeactivationGuardTripped` when this part deactivated too many.

    Called at the end of the part, inside its transaction, before it commits.
    ``started_with``: the active users when the part began, if the caller
    counted them (live updates do); else counted here, only when needed.
    """
    count = len(set(counts.deactivated_pks))
    floor = directory.deactivation_floor
    if force or count == 0:
        return
    if started_with is None:
        started_with = active_at_start(directory, counts)
    if count > floor and count > directory.max_deactivate_share * started_with:
        raise DeactivationGuardTripped(count, started_with, directory.max_deactivate_share,
                                       floor=floor, would_deactivate=_names(counts))
    # The floor is for the window too: runs of three each do not add up unnoticed.
    earlier = deactivated_in_window(directory)
    base = started_with + earlier  # about the users active when the window began
    if count + earlier > floor and count + earlier > directory.max_deactivate_share_24h * base:
        raise DeactivationGuardTripped(count, base, directory.max_deactivate_share_24h,
                                       limit="24h", earlier=earlier, floor=floor,
                                       would_deactivate=_names(counts))


def _names(counts: ImportCounts) -> list[str]:
    """User names of the profiles the part would have deactivated, for the report."""
    pks = sorted(set(counts.deactivated_pks))
    names = sorted(Profile.objects.filter(pk__in=pks[:MAX_LISTED])
                   .values_list("username", flat=True))
    if len(pks) > MAX_LISTED:
        names.append(f"and {len(pks) - MAX_LISTED} more")
    return names
