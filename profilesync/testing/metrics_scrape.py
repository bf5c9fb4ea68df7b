"""Reading /metrics the way Prometheus does, for the monitoring tests.

The page is parsed with prometheus_client's own parser, so a test passes only if a
real Prometheus could read what it checks.
"""

from __future__ import annotations

from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple, float]


def scrape(client: Client | None = None, **headers: str) -> Samples:
    """{(sample name, ((label, value), ...)): value} as Prometheus would read the page."""
    response = (client or Client(enforce_csrf_checks=True)).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    """The sample ``name`` with exactly ``labels``; None when the page does not have it."""
    return samples.get((name, tuple(sorted(labels.items()))))
