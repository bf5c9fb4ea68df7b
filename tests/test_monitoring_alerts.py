"""Alerts: one per incident and one on resolution, by real mail and a real signed webhook.

The mail goes to an aiosmtpd server and the webhook to an HTTP server, both
started by the test on loopback; the rules are evaluated as the worker's
scheduled job does (``incidents.evaluate``), as often as a worker would.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from profilesync.monitoring import recipients
from profilesync.monitoring.incidents import evaluate
from profilesync.monitoring.models import Incident
from profilesync.monitoring.rules import stale_syncs
from profilesync.sync.models import DirectorySyncState
from profilesync.sync.runner import run_sync
from profilesync.testing.monitoring_servers import SmtpServer, WebhookReceiver, free_port

pytestmark = pytest.mark.django_db

SECRET = "a-shared-secret-of-some-length"


@pytest.fixture
def smtp():
    with SmtpServer() as server, override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=server.port,
            PROFILESYNC_BASE_URL="https://people.example.org"):
        yield server


@pytest.fixture
def receiver():
    with WebhookReceiver() as server, override_settings(PROFILESYNC_WEBHOOK_BACKOFF_SECONDS=0.01,
                                                       PROFILESYNC_BASE_URL="https://people.example.org"):
        yield server


def unreachable(make_directory):
    return make_directory(None, name="gone", urls=["ldap://127.0.0.1:1"])


def test_a_failed_run_sends_one_mail_and_its_recovery_one_more(smtp, make_directory,
                                                                slapd_server, subtree):
    """Three failed runs and many evaluations later the operator has one mail about it, naming
    the directory, the cause and the run's page; the first good run brings exactly one more."""
    recipients.add_mail("ops@example.org")
    subtree.add_people(2)
    directory = make_directory(subtree, name="gone", urls=["ldap://127.0.0.1:1"])

    for _ in range(3):
        run_sync([directory], mode="full")
        evaluate()
        evaluate()
    problem_mails = list(smtp.messages)
    directory.urls = [slapd_server.ldap_uri]
    directory.save()
    run_sync([directory], mode="full")
    evaluate()
    evaluate()

    assert len(problem_mails) == 1
    (problem, recovery) = smtp.messages
    assert problem["Subject"] == "[profilesync] PROBLEM: Sync failed in directory gone"
    assert problem["X-Envelope-To"] == "ops@example.org"
    body = problem.get_content()
    first_run = Incident.objects.get().details["run"]
    assert "Directory: gone" in body
    assert "Cause: run" in body and "failed" in body and "127.0.0.1:1" in body
    assert f"Open: https://people.example.org/admin/sync/{first_run}/" in body
    assert recovery["Subject"] == "[profilesync] RESOLVED: Sync failed in directory gone"
    assert "Resolved:" in recovery.get_content()


def test_the_guard_alert_says_who_would_have_been_deactivated(smtp, subtree, make_directory,
                                                              sync_directory):
    recipients.add_mail("ops@example.org")
    people = subtree.add_people(5)
    directory = make_directory(subtree, max_deactivate_percent=20, deactivation_floor=0)
    sync_directory(directory)
    for dn in people[:4]:
        subtree.delete(dn)
    sync_directory(directory)

    evaluate()

    (mail,) = smtp.messages
    assert mail["Subject"] == ("[profilesync] PROBLEM: Deactivation guard stopped a sync in "
                               "directory corp")
    body = mail.get_content()
    assert "would deactivate 4 of 5 active users" in body
    assert "Would have been deactivated: user000, user001, user002, user003" in body


def test_the_guard_alert_names_who_would_have_been_deactivated_when_the_report_holds_it(
        smtp, make_directory):
    from profilesync.sync.models import DirectoryRunResult, SyncRun

    directory = make_directory(None)
    now = timezone.now()
    run = SyncRun.objects.create(started_at=now, finished_at=now, mode="full", status="failed")
    DirectoryRunResult.objects.create(
        run=run, directory=directory, directory_name="corp", status="failed", started_at=now,
        finished_at=now, errors=[{"dn": "", "message": "stopped before deactivating anyone: this "
                                  "run would deactivate 25 of 30 active users",
                                  "would_deactivate": [f"user{i:02d}" for i in range(25)]}])
    recipients.add_mail("ops@example.org")

    evaluate()

    body = smtp.bodies()[0]
    assert "Would have been deactivated: user00, user01," in body
    assert "user19 and 5 more" in body and "user20" not in body


def test_a_mail_server_that_was_down_gets_the_alert_once_it_is_up(make_directory):
    """Delivery that failed is tried at the next evaluation, and only until it worked."""
    port = free_port()
    recipients.add_mail("ops@example.org")
    run_sync([unreachable(make_directory)], mode="full")
    with override_settings(EMAIL_HOST="127.0.0.1", EMAIL_PORT=port,
                           EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        down = evaluate()
        with SmtpServer(port) as smtp:
            evaluate()
            evaluate()

    assert [d.ok for d in down.deliveries] == [False]
    assert len(smtp.messages) == 1
    assert Incident.objects.get().opened_sent_at is not None


def test_the_webhook_is_signed_and_sent_again_after_a_500(receiver, make_directory):
    """The receiver answers 500 once: it gets the same signed delivery a second time, and the
    resolution later, once."""
    recipients.add_webhook(receiver.url, SECRET)
    receiver.answers = [500]
    directory = unreachable(make_directory)
    run_sync([directory], mode="full")

    evaluate()
    evaluate()
    opened = list(receiver.posts)
    directory.delete()  # a directory that is gone no longer fails
    evaluate()

    assert len(opened) == 2
    assert all(post.signed_with(SECRET) for post in opened)
    assert not opened[0].signed_with("another secret of some length")
    assert opened[0].body == opened[1].body
    assert (opened[0].headers["X-Profilesync-Delivery"]
            == opened[1].headers["X-Profilesync-Delivery"])
    payload = opened[0].json
    assert (payload["event"], payload["rule"], payload["directory"]) == ("opened", "failed_run", "gone")
    assert payload["page"].startswith("https://people.example.org/admin/sync/")
    assert "127.0.0.1:1" in payload["cause"]
    resolved = receiver.posts[2:]
    assert [p.json["event"] for p in resolved] == ["resolved"] and resolved[0].signed_with(SECRET)


def test_a_webhook_that_refuses_with_403_is_not_hammered(receiver, make_directory):
    receiver.answers = [403, 403, 403, 403]
    recipients.add_webhook(receiver.url, SECRET)
    run_sync([unreachable(make_directory)], mode="full")
    result = evaluate()
    assert len(receiver.posts) == 1
    assert not result.deliveries[0].ok and "HTTP 403" in result.deliveries[0].detail


def test_pending_write_backs_older_than_the_limit_alert_and_resolve(smtp, acl_directory, acl_server):
    from profilesync.profiles.models import Profile, ProfileField
    from profilesync.profiles.services import update_field
    from profilesync.sync.datasources import set_setting
    from profilesync.writeback.models import PendingWrite
    from profilesync.writeback.service import FieldEdit, apply_edit

    recipients.add_mail("ops@example.org")
    run_sync([acl_directory])
    set_setting("writeback_enabled", "on")
    update_field(ProfileField.objects.get(key="phone"), {"write_back": True})
    ann = Profile.objects.get(username="ann")
    acl_server.stop()
    apply_edit(ann, "ann", [FieldEdit("phone", "+49 30 2222", "+49 30 1111")])
    evaluate()
    young = list(smtp.messages)
    PendingWrite.objects.update(created_at=timezone.now() - timedelta(hours=25))
    evaluate()
    evaluate()
    PendingWrite.objects.update(status="done")
    evaluate()

    assert young == []
    subjects = smtp.subjects()
    assert subjects == ["[profilesync] PROBLEM: Write-backs waiting too long in directory corp",
                        "[profilesync] RESOLVED: Write-backs waiting too long in directory corp"]
    assert "1 write-back(s) waiting for the directory for more than 24 hours" in (
        smtp.bodies()[0])


def test_no_successful_sync_for_twice_the_schedule_is_an_incident(make_directory, subtree,
                                                                    sync_directory):
    """With the default schedule (every 3 hours), 5 hours without a success is fine and 7 are
    not; the alert points at the sync report."""
    directory = make_directory(subtree)
    sync_directory(directory)
    now = timezone.now()
    DirectorySyncState.objects.update(last_success_at=now - timedelta(hours=5))
    fine = stale_syncs(now)
    DirectorySyncState.objects.update(last_success_at=now - timedelta(hours=7))
    (stale,) = stale_syncs(now)

    assert fine == []
    assert (stale.rule, stale.directory, stale.page) == ("sync_stale", "corp", "/admin/sync/")
    assert "more than 6 hours" in stale.cause


def test_an_unchanged_condition_over_many_evaluations_is_one_incident(make_directory):
    run_sync([unreachable(make_directory)], mode="full")
    opened = [len(evaluate().opened) for _ in range(5)]
    assert opened == [1, 0, 0, 0, 0]
    assert Incident.objects.count() == 1
