"""/metrics: Prometheus text that prometheus_client's own parser reads, following what happens.

The figures come from the database at scrape time (runs, profiles, write-backs), and
the HTTP counters from every process's multiprocess files; these tests read them
the way Prometheus would and check they move with a run, a failed run and a write-back.
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from profilesync.sync.runner import run_sync
from profilesync.testing.metrics_scrape import scrape, value
from profilesync.testing.writeback_profile import synced_with_write_back
from profilesync.writeback.service import FieldEdit, apply_edit

pytestmark = pytest.mark.django_db


def test_metrics_follow_a_successful_run(subtree, make_directory, sync_directory):
    """After a full sync of three people: one succeeded run, three active profiles, the entries
    read and created, a duration observed and the time of the last success."""
    subtree.add_people(3)
    directory = make_directory(subtree)
    before = scrape()
    assert value(before, "profilesync_database_up") == 1
    assert value(before, "profilesync_sync_runs_total", directory="corp", mode="full",
                 outcome="succeeded") is None

    sync_directory(directory)
    after = scrape()

    assert value(after, "profilesync_sync_runs_total", directory="corp", mode="full",
                 outcome="succeeded") == 1
    assert value(after, "profilesync_profiles", directory="corp", state="active") == 3
    assert value(after, "profilesync_sync_entries_read_total", directory="corp") == 3
    assert value(after, "profilesync_sync_entries_written_total", directory="corp",
                 change="created") == 3
    assert value(after, "profilesync_sync_run_duration_seconds_count", directory="corp",
                 mode="full") == 1
    assert value(after, "profilesync_sync_run_duration_seconds_bucket", directory="corp",
                 mode="full", le="+Inf") == 1
    assert value(after, "profilesync_sync_last_success_timestamp_seconds", directory="corp") > 0


def test_metrics_follow_a_failed_run_and_a_guard_trip(subtree, make_directory, sync_directory):
    """A run the deactivation guard stopped counts as failed and as a guard trip; the profiles
    stay active and the last success stays where it was."""
    people = subtree.add_people(4)
    directory = make_directory(subtree, max_deactivate_percent=20, deactivation_floor=0)
    sync_directory(directory)
    first_success = value(scrape(), "profilesync_sync_last_success_timestamp_seconds",
                          directory="corp")
    for dn in people[:3]:
        subtree.delete(dn)

    sync_directory(directory)
    samples = scrape()

    assert value(samples, "profilesync_sync_runs_total", directory="corp", mode="full",
                 outcome="failed") == 1
    assert value(samples, "profilesync_sync_runs_total", directory="corp", mode="full",
                 outcome="succeeded") == 1
    assert value(samples, "profilesync_sync_guard_trips_total", directory="corp") == 1
    assert value(samples, "profilesync_profiles", directory="corp", state="active") == 4
    assert value(samples, "profilesync_sync_last_success_timestamp_seconds",
                 directory="corp") == first_success


def test_metrics_follow_a_failed_run_of_an_unreachable_directory(make_directory):
    directory = make_directory(None, name="gone", urls=["ldap://127.0.0.1:1"])
    run_sync([directory], mode="full")
    samples = scrape()
    assert value(samples, "profilesync_sync_runs_total", directory="gone", mode="full",
                 outcome="failed") == 1
    assert value(samples, "profilesync_sync_guard_trips_total", directory="gone") == 0


@pytest.fixture
def ann(acl_directory):
    """Ann's profile, synced, with write-back on globally and for phone and title."""
    return synced_with_write_back(acl_directory, "ann", ("phone", "title"))


def test_metrics_follow_write_backs_written_refused_and_pending(ann, acl_server):
    """A written phone number, a title the directory refuses, then a phone number kept
    pending while the directory is down: each shows in the outcomes and the queue."""
    apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])
    apply_edit(ann, "ann", [FieldEdit("title", "Chief", "Engineer")])
    written_and_refused = scrape()
    acl_server.stop()
    apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 3333", "+49 30 2222")])
    pending = scrape()

    assert value(written_and_refused, "profilesync_writeback_attempts_total", directory="corp",
                 result="written") == 1
    assert value(written_and_refused, "profilesync_writeback_attempts_total", directory="corp",
                 result="refused") == 1
    assert value(written_and_refused, "profilesync_writeback_refused", directory="corp") == 1
    assert value(written_and_refused, "profilesync_writeback_pending", directory="corp") is None
    assert value(pending, "profilesync_writeback_pending", directory="corp") == 1
    assert 0 <= value(pending, "profilesync_writeback_pending_oldest_age_seconds",
                      directory="corp") < 3600
    assert value(pending, "profilesync_writeback_attempts_total", directory="corp",
                 result="pending") == 1


def _route_count(samples: dict, route: str) -> float:
    return sum(v for (name, labels), v in samples.items()
               if name == "profilesync_http_requests_total" and dict(labels)["route"] == route)


def test_http_requests_are_counted_by_route_pattern_and_status(fresh_install):
    """Two profile pages asked for count under the one route pattern, not as two paths,
    and the latency histogram grows with them."""
    client = Client(enforce_csrf_checks=True)
    route = "/people/<int:pk>/"
    before = scrape(client)

    statuses = {client.get(f"/people/{pk}/").status_code for pk in (999_001, 999_002)}
    after = scrape(client)

    assert _route_count(after, route) - _route_count(before, route) == 2
    (status,) = statuses
    assert value(after, "profilesync_http_requests_total", route=route, method="GET",
                 status=str(status)) >= 2
    latency = "profilesync_http_request_duration_seconds_count"
    assert (value(after, latency, route=route, method="GET")
            - (value(before, latency, route=route, method="GET") or 0)) == 2
    assert not any("999001" in str(key) for key in after)


@override_settings(PROFILESYNC_METRICS_ALLOW="10.9.9.0/24", PROFILESYNC_METRICS_TOKEN="t0ken-for-prometheus")
def test_metrics_are_refused_outside_the_allowed_addresses_without_the_token(fresh_install):
    client = Client(enforce_csrf_checks=True)
    from_loopback = client.get("/metrics")
    wrong_token = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    allowed_address = client.get("/metrics", REMOTE_ADDR="10.9.9.7")
    through_proxy = client.get("/metrics", REMOTE_ADDR="10.9.9.7", HTTP_X_FORWARDED_FOR="10.9.9.7")
    with_token = client.get("/metrics", HTTP_AUTHORIZATION="Bearer t0ken-for-prometheus")

    assert from_loopback.status_code == 403 and b"PROFILESYNC_METRICS_ALLOW" in from_loopback.content
    assert wrong_token.status_code == 403
    assert allowed_address.status_code == 200
    assert through_proxy.status_code == 403
    assert with_token.status_code == 200 and b"profilesync_database_up 1.0" in with_token.content
