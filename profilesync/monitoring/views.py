"""``/metrics`` (Prometheus text format), ``/healthz`` (the process serves) and ``/readyz``."""

from __future__ import annotations

import json
import os

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from .health import readiness
from .metrics_access import may_read_metrics
from .metrics_collector import DatabaseCollector


def metrics_registry() -> CollectorRegistry:
    """Every process's counters (multiprocess files) plus the figures from the database."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    registry.register(DatabaseCollector())
    return registry


@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not may_read_metrics(request):
        return HttpResponse(
            "metrics are readable from the addresses in PROFILESYNC_METRICS_ALLOW, or with "
            "\"Authorization: Bearer\" and the token in PROFILESYNC_METRICS_TOKEN\n",
            status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(metrics_registry()), content_type=CONTENT_TYPE_LATEST)


@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 while this process answers requests; load balancers' liveness probe.

    Nothing else is checked on purpose: a database outage must not make an
    orchestrator restart every web process. ``/readyz`` is for that.
    """
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """200 when this node can serve: database (migrated), cache, a live worker; else 503.

    Everyone learns which part fails; the details (driver messages, worker names)
    only callers who may read the metrics.
    """
    result = readiness()
    status = 200 if result.ready else 503
    detailed = may_read_metrics(request)
    if "json" in request.GET.get("format", "") or "application/json" in request.headers.get("Accept", ""):
        body = result.as_json()
        if not detailed:
            body = {"ready": result.ready,
                    "checks": [{"name": c.name, "ok": c.ok} for c in result.checks]}
        return HttpResponse(json.dumps(body) + "\n", status=status, content_type="application/json")
    if detailed:
        text = result.as_text()
    else:
        text = ("ready\n" if result.ready else
                "not ready: " + ", ".join(c.name for c in result.failing) + "\n")
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")
