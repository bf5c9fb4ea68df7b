"""Monitoring of the live listeners: /metrics follows them, and a listener down long enough alerts.

Each test has its own slapd (killed and started again to take the listener
down) and real ``profilesync worker`` subprocesses on the test database. The
metrics are read with prometheus_client's own parser; the alerts go to a real
SMTP server, evaluated as the worker's scheduled job does. Tests wait for
states with deadlines; the "down" duration is made 1 s by the setting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from django.core.checks import Error
from django.test import override_settings
from django.utils import timezone

from profilesync.directories.models import Directory
from profilesync.live.models import LiveListener
from profilesync.live.status import set_live
from profilesync.monitoring import recipients
from profilesync.monitoring.checks import check_monitoring_settings
from profilesync.monitoring.incidents import evaluate
from profilesync.monitoring.models import Incident
from profilesync.sync.runner import run_sync
from profilesync.testing.live import (
    WorkerProcess,
    Workers,
    imported_directory,
    slapd_with_people,
)
from profilesync.testing.metrics_scrape import scrape, value
from profilesync.testing.monitoring_servers import SmtpServer, WebhookReceiver
from profilesync.testing.slapd import SlapdServer

pytestmark = pytest.mark.django_db(transaction=True)

PEOPLE = ("ann", "ben", "cid")
BASE = "https://people.example.org"
SECRET = "a-shared-secret-of-some-length"


@pytest.fixture
def slapd(tmp_path) -> Iterator[SlapdServer]:
    with slapd_with_people(tmp_path / "slapd", PEOPLE) as server:
        yield server


@pytest.fixture
def directory(slapd, make_directory):
    """Three people imported once by a run, so the supervisor wants a listener."""
    return imported_directory(slapd, make_directory)


@pytest.fixture
def start_worker(tmp_path, profilesync_env) -> Iterator[Callable[[str], WorkerProcess]]:
    with Workers(tmp_path, profilesync_env) as workers:
        yield workers.start


@pytest.fixture
def smtp():
    with SmtpServer() as server, override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=server.port, PROFILESYNC_BASE_URL=BASE,
            PROFILESYNC_ALERT_LIVE_DOWN_SECONDS=1):
        recipients.add_mail("ops@example.org")
        yield server


@pytest.fixture
def hook():
    with WebhookReceiver() as server:
        yield server


def states(samples: dict, directory: str = "corp") -> dict[str, float]:
    return {state: value(samples, "profilesync_live_listener_state", directory=directory,
                         state=state)
            for state in ("connected", "polling", "reconnecting", "off")}


def scraped_state(state: str) -> Callable[[], dict | None]:
    """A condition for wait_for: the scrape once it shows the listener in ``state``."""
    def check() -> dict | None:
        samples = scrape()
        return samples if states(samples)[state] == 1 else None
    return check


def kill(slapd: SlapdServer) -> None:
    slapd.process.kill()
    slapd.process.wait()
    slapd.process = None


def row(directory) -> LiveListener:
    return LiveListener.objects.get(directory=directory)


def state_of(directory) -> str | None:
    """The listener's state, None before a worker made its row."""
    found = LiveListener.objects.filter(directory=directory).first()
    return None if found is None else found.state


def connected(directory, worker: WorkerProcess) -> Callable[[], bool]:
    def check() -> bool:
        assert worker.alive(), worker.output
        return state_of(directory) == "connected"
    return check


def test_the_metrics_follow_the_listener_through_an_outage(slapd, directory, start_worker,
                                                           wait_for):
    """No worker: the listener is wanted, off and held by nobody. A worker connects it, a change
    shows its time, killing slapd shows reconnecting (and how long), slapd back shows connected;
    a killed worker's heartbeat runs out and the scrape says nobody holds it."""
    before = scrape()
    assert states(before) == {"connected": 0, "polling": 0, "reconnecting": 0, "off": 1}
    assert value(before, "profilesync_live_listener_wanted", directory="corp") == 1
    assert value(before, "profilesync_live_listener_held", directory="corp") == 0
    assert value(before, "profilesync_live_listener_last_change_timestamp_seconds",
                 directory="corp") is None

    worker = start_worker("w1")
    up = wait_for(scraped_state("connected"), what="the scrape to show connected", timeout=60)
    assert value(up, "profilesync_live_listener_held", directory="corp") == 1
    assert value(up, "profilesync_live_listener_down_seconds", directory="corp") == 0

    slapd.modify("uid=ann,ou=people,dc=example,dc=org", {"title": ["Head of Tea"]})
    changed = wait_for(lambda: (lambda s: s if value(
        s, "profilesync_live_listener_last_change_timestamp_seconds", directory="corp") else None)(
        scrape()), what="the change to be counted")
    assert value(changed, "profilesync_live_listener_last_change_timestamp_seconds",
                 directory="corp") == row(directory).last_change_at.timestamp()
    assert value(changed, "profilesync_live_listener_changes_applied_total", directory="corp") >= 1

    kill(slapd)
    down = wait_for(scraped_state("reconnecting"), what="the scrape to show reconnecting")
    assert states(down) == {"connected": 0, "polling": 0, "reconnecting": 1, "off": 0}
    assert value(down, "profilesync_live_listener_held", directory="corp") == 1
    # Down since the state changed: both figures count from the listener's own "since".
    in_state = value(down, "profilesync_live_listener_state_seconds", directory="corp")
    assert value(down, "profilesync_live_listener_down_seconds", directory="corp") == in_state
    assert in_state > 0

    slapd.start()
    back = wait_for(scraped_state("connected"), what="the scrape to show connected again",
                    timeout=60)
    assert value(back, "profilesync_live_listener_down_seconds", directory="corp") == 0

    worker.kill()
    orphaned = wait_for(lambda: (lambda s: s if value(
        s, "profilesync_live_listener_held", directory="corp") == 0 else None)(scrape()),
        what="the killed worker's lease to run out")
    # Its last word stays "connected"; the heartbeat is what shows nobody listens.
    assert states(orphaned)["connected"] == 1
    assert value(orphaned, "profilesync_live_listener_down_seconds", directory="corp") > 0


def test_slapd_down_alerts_once_by_mail_and_its_recovery_once(smtp, hook, slapd, directory,
                                                              start_worker, wait_for):
    """slapd killed under a connected listener: however often the rules are evaluated, one
    PROBLEM mail (and one signed webhook) naming the directory, the cause and the directory's
    page; slapd back: one RESOLVED mail and one webhook."""
    recipients.add_webhook(hook.url, SECRET)
    worker = start_worker("w1")
    wait_for(connected(directory, worker), what="the listener to connect", timeout=60)
    evaluate()
    assert smtp.messages == []

    kill(slapd)
    wait_for(lambda: state_of(directory) == "reconnecting", what="reconnecting")
    wait_for(lambda: evaluate().opened, what="the alert (down longer than 1 s)")
    for _ in range(3):
        evaluate()
    problems = list(smtp.messages)

    slapd.start()
    wait_for(connected(directory, worker), what="the listener to reconnect", timeout=60)
    for _ in range(3):
        evaluate()

    assert len(problems) == 1
    (problem, recovery) = smtp.messages
    assert problem["Subject"] == "[profilesync] PROBLEM: Live updates down in directory corp"
    body = problem.get_content()
    assert "Directory: corp" in body
    assert "Cause: the live listener has been reconnecting since" in body
    assert "retrying in" in body  # the listener's own sentence on why it reconnects
    assert f"Open: {BASE}/admin/directories/{directory.pk}/" in body
    assert recovery["Subject"] == "[profilesync] RESOLVED: Live updates down in directory corp"
    assert Incident.objects.get().resolved_at is not None
    assert [(p.json["event"], p.json["rule"], p.json["directory"]) for p in hook.posts] == [
        ("opened", "live_down", "corp"), ("resolved", "live_down", "corp")]
    assert all(p.signed_with(SECRET) for p in hook.posts)
    assert hook.posts[0].json["page"] == f"{BASE}/admin/directories/{directory.pk}/"
    assert worker.alive(), worker.output


def test_a_listener_no_worker_runs_alerts_and_a_new_worker_resolves_it(smtp, directory,
                                                                      start_worker, wait_for):
    """The worker holding the listener is killed and none other runs: one mail saying no worker
    runs it and what to check; a worker started again resolves it with one more."""
    first = start_worker("w1")
    wait_for(connected(directory, first), what="the listener to connect", timeout=60)
    evaluate()
    first.kill()

    wait_for(lambda: evaluate().opened, what="the alert once the lease ran out")
    evaluate()
    second = start_worker("w2")
    wait_for(lambda: row(directory).holder == second.holder
             and row(directory).state == "connected", what="the new worker's listener", timeout=60)
    evaluate()
    evaluate()

    (problem, recovery) = smtp.messages
    assert problem["Subject"] == "[profilesync] PROBLEM: Live updates down in directory corp"
    body = problem.get_content()
    assert "no worker has run the live listener since" in body
    assert "`profilesync worker`" in body
    assert recovery["Subject"] == "[profilesync] RESOLVED: Live updates down in directory corp"


def test_a_directory_with_live_off_is_not_down(smtp, slapd, directory, make_directory):
    """No worker at all: the directory that wants a listener alerts; the one with live off does
    not, nor the one never imported (there is nothing to listen from yet)."""
    quiet = make_directory(None, name="quiet", urls=[slapd.ldap_uri], bind_dn=slapd.root_dn,
                           bind_password=slapd.root_pw, base_dn=slapd.suffix)
    run_sync([quiet])
    set_live(quiet, "off")
    make_directory(None, name="never", urls=["ldap://127.0.0.1:1"])
    Directory.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))

    result = evaluate()

    assert [i.key for i in result.opened if i.rule == "live_down"] == ["live_down:corp"]
    assert [s for s in smtp.subjects() if "Live updates" in s] == [
        "[profilesync] PROBLEM: Live updates down in directory corp"]


def test_a_listener_that_found_live_off_by_default_is_not_down(smtp, slapd, make_directory,
                                                               start_worker, wait_for):
    """Profiles keyed by uid: nothing pushes them, so the listener turns itself off (live is
    on by default only where the server pushes). That is no outage: no alert, wanted 0."""
    directory = make_directory(None, urls=[slapd.ldap_uri], bind_dn=slapd.root_dn,
                               bind_password=slapd.root_pw, base_dn=slapd.suffix,
                               unique_id_attribute="uid")
    run_sync([directory])
    worker = start_worker("w1")
    wait_for(lambda: LiveListener.objects.filter(directory=directory, state="off",
                                                 method="poll").exists(),
             what="the listener to find live off by default", timeout=60)
    Directory.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))

    assert [i.key for i in evaluate().opened if i.rule == "live_down"] == []
    samples = scrape()
    assert states(samples)["off"] == 1
    assert value(samples, "profilesync_live_listener_wanted", directory="corp") == 0
    assert value(samples, "profilesync_live_listener_down_seconds", directory="corp") == 0
    assert not [s for s in smtp.subjects() if "Live updates" in s]
    assert worker.alive(), worker.output


def test_a_bad_down_setting_is_named_and_the_rules_still_run(smtp, make_directory):
    """A typo is named by the checks with the fix; evaluation goes on with the default, so the
    other alerts (here a failed run) still reach the operator."""
    directory = make_directory(None, name="gone", urls=["ldap://127.0.0.1:1"])
    run_sync([directory], mode="full")
    with override_settings(PROFILESYNC_ALERT_LIVE_DOWN_SECONDS="ten minutes"):
        errors = [e for e in check_monitoring_settings() if e.id == "monitoring.E006"]
        evaluate()

    assert len(errors) == 1 and isinstance(errors[0], Error)
    assert "PROFILESYNC_ALERT_LIVE_DOWN_SECONDS is 'ten minutes'" in errors[0].msg
    assert "number of seconds" in errors[0].msg
    assert smtp.subjects() == ["[profilesync] PROBLEM: Sync failed in directory gone"]
