"""``profilesync alerts add|list|remove|test``: who is told about incidents, and a test alert."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import CommandError
from django.utils import timezone

from profilesync.management.base import ProfilesyncCommand, usage_error
from profilesync.monitoring import recipients
from profilesync.monitoring.delivery import send_test


class Command(ProfilesyncCommand):
    help = ("Manage alert recipients (mail addresses and signed webhooks) and send a test alert. "
            "The same list as the Notifications admin page.")

    def add_arguments(self, parser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        add = actions.add_parser("add", help="add a mail address or a webhook")
        target = add.add_mutually_exclusive_group(required=True)
        target.add_argument("--mail", metavar="ADDRESS", help="a mail address to send alerts to")
        target.add_argument("--webhook", metavar="URL", help="an http(s) URL to POST alerts to")
        add.add_argument("--secret-file", metavar="FILE",
                         help="webhook only: a file holding the HMAC-SHA256 signing secret "
                         "(default: one is made and printed once)")
        listing = actions.add_parser("list", help="list recipients (never webhook secrets)")
        listing.add_argument("--json", action="store_true")
        remove = actions.add_parser("remove", help="remove a recipient")
        remove.add_argument("id", help="the recipient's id, as `alerts list` shows")
        test = actions.add_parser("test", help="send a test alert to every recipient")
        test.add_argument("--json", action="store_true")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"handle_{action}")(**options)

    def handle_add(self, mail: str | None = None, webhook: str | None = None,
                   secret_file: str | None = None, **options) -> None:
        if mail is not None:
            if secret_file:
                raise usage_error("--secret-file: only a webhook is signed; leave it out with --mail")
            recipient = recipients.add_mail(mail)
            self.stdout.write(f"recipient {recipient.pk}: mail {recipient.target}")
            return
        secret = None
        if secret_file:
            try:
                secret = Path(secret_file).read_text().strip()
            except OSError as exc:
                raise usage_error(f"--secret-file: cannot read {secret_file}: {exc.strerror}") from None
        added = recipients.add_webhook(webhook or "", secret)
        self.stdout.write(f"recipient {added.recipient.pk}: webhook "
                          f"{recipients.shown_target(added.recipient)}")
        if added.generated_secret:
            self.stderr.write("Signing secret (HMAC-SHA256 of \"<timestamp>.<body>\", header "
                              "X-Profilesync-Signature); keep it now, it is not shown again:")
            self.stdout.write(added.generated_secret)

    def handle_list(self, json: bool = False, **options) -> None:
        rows = [{"id": r.pk, "kind": r.kind, "target": recipients.shown_target(r),
                 "created_at": timezone.localtime(r.created_at).isoformat(timespec="seconds")}
                for r in recipients.all_recipients()]
        if json:
            self.stdout.write(_dumps(rows))
            return
        if not rows:
            self.stdout.write("no alert recipients; add one with `profilesync alerts add --mail "
                              "ADDRESS` or `--webhook URL`")
        for row in rows:
            self.stdout.write(f"{row['id']:>4}  {row['kind']:<8} {row['target']}")

    def handle_remove(self, id: str, **options) -> None:
        removed = recipients.remove(id)
        self.stdout.write(f"removed recipient {id}: {removed.kind} {recipients.shown_target(removed)}")

    def handle_test(self, json: bool = False, **options) -> None:
        if not recipients.all_recipients():
            raise usage_error("no alert recipients to test; add one with `profilesync alerts add`")
        results = send_test()
        if json:
            self.stdout.write(_dumps([r.as_json() for r in results]))
        else:
            for r in results:
                self.stdout.write(f"{'ok  ' if r.ok else 'FAIL'} {r.recipient_id:>4} {r.kind:<8} "
                                  f"{r.target}: {r.detail}")
        failed = [r for r in results if not r.ok]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} recipients not reached", returncode=1)


def _dumps(value: object) -> str:
    return json.dumps(value, indent=2)
