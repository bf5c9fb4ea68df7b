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
    """Active profiles of ``directory`` now: the guard's base, taken when a part begins."""
    return Profile.objects.filter(directory=directory, active=True).count()


def deactivated_in_window(directory: Directory) -> int:
    """Deactivations by successful runs of ``directory`` that finished in the last 24 hours."""
    since = timezone.now() - WINDOW
    total = (DirectoryRunResult.objects
             .filter(directory=directory, status=RunStatus.SUCCEEDED, finished_at__gte=since)
             .aggregate(total=Sum("deactivated"))["total"])
    return total or 0


def check(directory: Directory, counts: ImportCounts, active_at_start: int, *,
          force: bool) -> None:
    """Raise :class:`DeactivationGuardTripped` when this part deactivated too many."""
    count = len(set(counts.deactivated_pks))
    floor = directory.deactivation_floor
    if force or count == 0:
        return
    if count > floor and count > directory.max_deactivate_share * active_at_start:
        raise DeactivationGuardTripped(count, active_at_start, directory.max_deactivate_share,
                                       floor=floor, would_deactivate=_names(counts))
    # The floor is for the window too: runs of three each do not add up unnoticed.
    earlier = deactivated_in_window(directory)
    base = active_at_start + earlier  # about the users active when the window began
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
