"""The per-process metrics: HTTP requests by route, method and status, and their latency.

Everything else is computed from the database at scrape time (``metrics_collector``);
only what no table records is counted here, in prometheus-client's multiprocess
mode (``PROMETHEUS_MULTIPROC_DIR``, set in settings before this module is imported),
so every gunicorn worker's counts add up in one ``/metrics`` answer.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

# Web requests take milliseconds to a few seconds; a people search on a cold cache or a
# large CSV export may take longer.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "profilesync_http_requests", "HTTP requests answered, by route pattern, method and status code",
    ["route", "method", "status"])
HTTP_LATENCY = Histogram(
    "profilesync_http_request_duration_seconds", "Time to answer an HTTP request, by route pattern",
    ["route", "method"], buckets=LATENCY_BUCKETS)
