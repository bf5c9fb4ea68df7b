"""``profilesync alerts add|list|remove|test`` and the alert job run by a real worker."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.test import override_settings

from profilesync.monitoring.models import AlertRecipient, Incident
from profilesync.monitoring.recipients import add_mail, webhook_secret
from profilesync.scheduling.jobs import JOBS
from profilesync.sync.runner import run_sync
from profilesync.testing.monitoring_servers import SmtpServer, WebhookReceiver

pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "secret-from-a-file-0123456789"


def test_alerts_add_list_remove(cli, tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    mail = cli("alerts", "add", "--mail", "ops@example.org")
    hook = cli("alerts", "add", "--webhook", "https://chat.example.org/hooks/T0/B0/tok3n",
               "--secret-file", str(secret_file))
    listed = cli("alerts", "list", "--json")
    text = cli("alerts", "list")
    mail_id = AlertRecipient.objects.get(kind="mail").pk
    removed = cli("alerts", "remove", str(mail_id))

    assert mail[0] == 0 and hook[0] == 0
    rows = json.loads(listed[1])
    assert [(r["kind"], r["target"]) for r in rows] == [
        ("mail", "ops@example.org"), ("webhook", "https://chat.example.org/hooks/…")]
    assert "tok3n" not in listed[1] + text[1] and SECRET not in listed[1] + text[1]
    assert removed[0] == 0 and list(AlertRecipient.objects.values_list("kind", flat=True)) == ["webhook"]
    assert webhook_secret(AlertRecipient.objects.get()) == SECRET
    assert SECRET not in AlertRecipient.objects.get().secret  # encrypted at rest


@pytest.mark.parametrize(("argv", "message"), [
    (("--mail", "not-an-address"), "--mail: 'not-an-address' is not a mail address"),
    (("--webhook", "ftp://example.org/x"),
     "--webhook: 'ftp://example.org/x' is not an http:// or https:// URL"),
    (("--webhook", "https://example.org/x", "--secret-file", "/nonexistent/secret"),
     "--secret-file: cannot read /nonexistent/secret"),
    (("--mail", "a@example.org", "--secret-file", "/etc/hostname"),
     "--secret-file: only a webhook is signed"),
])
def test_alerts_add_refuses_bad_input_naming_the_option(cli, argv, message):
    code, _out, err = cli("alerts", "add", *argv)
    assert code == 2 and message in err
    assert not AlertRecipient.objects.exists()


def test_a_short_webhook_secret_and_a_duplicate_are_refused(cli, tmp_path):
    short = tmp_path / "short"
    short.write_text("abc")
    too_short = cli("alerts", "add", "--webhook", "https://example.org/x", "--secret-file", str(short))
    cli("alerts", "add", "--mail", "ops@example.org")
    again = cli("alerts", "add", "--mail", "ops@example.org")
    missing = cli("alerts", "remove", "4711")

    assert too_short[0] == 2 and "--secret: the webhook secret has 3 characters" in too_short[2]
    assert again[0] == 2 and "ops@example.org is already a recipient" in again[2]
    assert missing[0] == 2 and "--id: no alert recipient 4711" in missing[2]


def test_a_generated_webhook_secret_is_printed_once_and_signs(cli):
    code, out, err = cli("alerts", "add", "--webhook", "https://example.org/hook")
    secret = out.strip().splitlines()[-1]
    assert code == 0 and "not shown again" in err
    assert webhook_secret(AlertRecipient.objects.get()) == secret and len(secret) >= 32


def test_alerts_test_reaches_every_recipient_and_says_which_failed(cli):
    with SmtpServer() as smtp, WebhookReceiver() as receiver, override_settings(
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=smtp.port, PROFILESYNC_WEBHOOK_ATTEMPTS=1,
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"):
        cli("alerts", "add", "--mail", "ops@example.org")
        cli("alerts", "add", "--webhook", receiver.url)
        cli("alerts", "add", "--webhook", "http://127.0.0.1:1/closed")
        code, out, err = cli("alerts", "test", "--json")

    results = json.loads(out)
    assert code == 1 and "1 of 3 recipients not reached" in err
    assert [r["ok"] for r in results] == [True, True, False]
    assert smtp.subjects() == ["[profilesync] TEST: Test alert"]
    assert receiver.posts[0].json["event"] == "test"
    assert "Connection refused" in results[2]["detail"]


def test_the_alert_job_is_scheduled_and_a_worker_runs_it(make_directory, profilesync_env):
    """The job is registered with the scheduler (every minute by default), and a real worker
    running its task opens the incident and mails it."""
    assert JOBS["alert_rules"].default_cron == "* * * * *"
    add_mail("ops@example.org")
    run_sync([make_directory(None, name="gone", urls=["ldap://127.0.0.1:1"])], mode="full")
    with SmtpServer() as smtp:
        env = {**profilesync_env, "PROFILESYNC_EMAIL_HOST": "127.0.0.1",
               "PROFILESYNC_EMAIL_PORT": str(smtp.port)}
        JOBS["alert_rules"].task.enqueue(trigger="manual")
        worker = subprocess.run([sys.executable, "-m", "profilesync.cli", "worker", "--batch",
                                 "-v", "0"], env=env, capture_output=True, text=True, timeout=300,
                                stdin=subprocess.DEVNULL)

    assert worker.returncode == 0, worker.stderr
    assert Incident.objects.get().rule == "failed_run"
    assert smtp.subjects() == ["[profilesync] PROBLEM: Sync failed in directory gone"]
