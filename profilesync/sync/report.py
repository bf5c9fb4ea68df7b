"""The sync report as text and JSON, for ``profilesync sync report`` and scripts."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from .models import DirectoryRunResult, SyncRun


def _time(moment) -> str | None:
    return None if moment is None else timezone.localtime(moment).strftime("%d-%m-%Y %H:%M:%S")


def result_as_json(result: DirectoryRunResult) -> dict:
    return {
        **result.as_report(),
        "mode": result.mode,
        "mode_reason": result.mode_reason,
        "notes": result.notes,
        "would_deactivate": result.would_deactivate,
        "search_base": result.search_base,
        "filter_sent": result.filter_sent,
        "timestamp_pattern": result.timestamp_pattern,
        "watermark_before": _time(result.watermark_before),
        "watermark_after": _time(result.watermark_after),
        "watermark_source": result.watermark_source,
        "fields_filled": result.fields_filled,
        "deletions_source": result.deletions_source,
        "change_tracking": result.change_tracking,
        "usn_before": result.usn_before,
        "usn_after": result.usn_after,
    }


def interruption_of(run: SyncRun) -> str:
    """Why the run ended without finishing (its worker stopped), or ""."""
    try:
        return run.interruption.message
    except ObjectDoesNotExist:
        return ""


def run_as_json(run: SyncRun) -> dict:
    return {
        "run": run.pk,
        "started_at": _time(run.started_at),
        "finished_at": _time(run.finished_at),
        "duration_seconds": run.duration_seconds,
        "mode": run.mode,
        "status": run.status,
        "trigger": run.trigger,
        "forced": run.forced,
        "interrupted": interruption_of(run),
        "directories": {r.directory_name: result_as_json(r) for r in run.results.all()},
    }


def run_as_lines(run: SyncRun, *, detail: bool = False) -> list[str]:
    duration = f"{run.duration_seconds:.2f} s" if run.duration_seconds is not None else "running"
    lines = [f"#{run.pk}  {_time(run.started_at)}  {duration}  {run.mode}  {run.trigger}  "
             f"{run.status}"]
    if interruption_of(run):
        lines.append(f"    interrupted: {interruption_of(run)}")
    for r in run.results.all():
        lines.append(f"    {r.directory_name}: {r.status} ({r.mode}), created {r.created}, "
                     f"updated {r.updated}, unchanged {r.unchanged}, "
                     f"deactivated {r.deactivated}, failed {r.failed}")
        if r.mode_reason:
            lines.append(f"        {r.mode_reason}")
        for note in r.notes:
            lines.append(f"        {note}")
        if r.change_tracking:
            # Active Directory: how changes were found, or why this run read everyone.
            lines.append(f"        changes found {r.change_tracking}"
                         if r.change_tracking.startswith("by ") else f"        {r.change_tracking}")
        if detail:
            lines += [f"        filter sent: {r.filter_sent}",
                      f"        timestamp pattern: {r.timestamp_pattern}",
                      f"        watermark: {_time(r.watermark_before) or 'none'} -> "
                      f"{_time(r.watermark_after) or 'none'} ({r.watermark_source})"]
            if r.fields_filled:
                lines.append(f"        fields filled for everyone: {', '.join(r.fields_filled)}")
            if r.deletions_source:
                lines.append(f"        deletions found by: {r.deletions_source}")
            if r.usn_before is not None or r.usn_after is not None:
                lines.append(f"        USN watermark: {r.usn_before or 'none'} -> {r.usn_after or 'none'}")
        for error in r.errors[: None if detail else 3]:
            where = f"{error['dn']}: " if error.get("dn") else ""
            lines.append(f"        {where}{error['message']}")
        if r.would_deactivate:
            lines.append(f"        would have deactivated: {', '.join(r.would_deactivate)}")
    return lines
