"""Sync runs for System Administrators: the report of past runs and "run now"."""

from __future__ import annotations

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Status
from ninja.errors import HttpError

from profilesync.accounts.permissions import RUN_SYNC, who_may
from profilesync.sync.models import SyncRun
from profilesync.sync.report import run_as_json

from .schemas import ApiError, QueuedSync, SyncRunSummary

router = Router(tags=["sync"])

MAX_RUNS = 100


def _require_system_administrator(request: HttpRequest) -> None:
    """The same Django permission as the sync pages (``RUN_SYNC``), so the API and the
    pages cannot disagree about who may see or start a run."""
    if not request.user.has_perm(RUN_SYNC):
        raise HttpError(403, f"sync runs are for {who_may(RUN_SYNC)}")


@router.get("/sync/runs", response={200: list[SyncRunSummary], 403: ApiError})
def sync_runs(request: HttpRequest, limit: int = 20) -> list[dict]:
    """The latest runs, newest first, as ``profilesync sync report --json`` prints them."""
    _require_system_administrator(request)
    runs = SyncRun.objects.prefetch_related("results").order_by("-pk")[:max(1, min(limit,
                                                                                   MAX_RUNS))]
    return [run_as_json(run) for run in runs]


@router.get("/sync/runs/{run_id}", response={200: SyncRunSummary, 403: ApiError,
                                             404: ApiError})
def sync_run(request: HttpRequest, run_id: int) -> dict:
    _require_system_administrator(request)
    return run_as_json(get_object_or_404(SyncRun.objects.prefetch_related("results"),
                                         pk=run_id))


@router.post("/sync/runs", response={202: QueuedSync, 403: ApiError})
def run_now(request: HttpRequest, force: bool = False) -> Status:
    """Queue "Bulk profile update (LDAP sync)" for the next free worker, as the Data
    Sources page's "Run now" does; follow it with ``GET /sync/runs``."""
    _require_system_administrator(request)
    from profilesync.scheduling.tasks import enqueue_sync

    queued = enqueue_sync(trigger="manual", force=force)
    return Status(202, QueuedSync(task=str(queued.id),
                                  detail="queued; a worker (profilesync worker) starts it "
                                         "shortly"))
