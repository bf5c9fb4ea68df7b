"""The Sync report's "Preview" in a real browser, run by a real worker, then "Run now"."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.conf import settings

from profilesync.accounts.roles import Role, set_role
from profilesync.profiles.models import Profile
from profilesync.sync.models import PersonChange, SyncPreview, SyncRun
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-browser-ok-1"


def run_worker(env: dict) -> None:
    # The page reads the worker's progress from the cache: the same data folder as the server.
    worker = subprocess.run([sys.executable, "-m", "profilesync.cli", "worker", "--batch", "-v",
                             "0"], env={**env, "PROFILESYNC_DATA_DIR": str(settings.DATA_DIR)},
                            capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert worker.returncode == 0, worker.stderr


def test_preview_then_run_now_past_the_limit(page, live_server, log_in, subtree, make_directory,
                                             django_user_model, profilesync_env, screenshot_dir):
    people = subtree.add_people(10)
    directory = make_directory(subtree, max_deactivate_percent=20, deactivation_floor=0)
    run_sync([directory], mode="full")
    subtree.modify(people[0], title="Team Lead")
    for dn in people[1:4]:
        subtree.delete(dn)
    admin = django_user_model.objects.create_user("sysadmin", password=PASSWORD)
    set_role(admin, Role.SYSTEM_ADMINISTRATOR)
    log_in(page, live_server, "sysadmin", PASSWORD)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{live_server.url}/admin/sync/")
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url("**/admin/sync/preview/*/")
    assert page.get_by_role("status").inner_text() == "Waiting for a worker…"
    before = list(Profile.objects.order_by("pk").values())
    run_worker(profilesync_env)
    assert list(Profile.objects.order_by("pk").values()) == before
    page.wait_for_selector("text=Who would change", timeout=15_000)  # the page refreshes itself

    assert page.locator(".guard-tripped").inner_text() == "tripped"
    assert page.locator("table.preview-counts tbody td").all_inner_texts()[2:5] == ["0", "1", "3"]
    force = page.get_by_label("past the deactivation limit")
    assert force.is_checked()
    page.screenshot(path=str(screenshot_dir / "sync-preview.png"), full_page=True)
    page.get_by_label("Action").select_option("deactivate")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**action=deactivate**")
    people_listed = page.locator("table.changes tbody tr td[rowspan]:first-child").all_inner_texts()
    assert [p.split()[0] for p in people_listed] == ["user001", "user002", "user003"]

    page.get_by_role("button", name="Run now").click()
    page.wait_for_url("**/admin/sync/")
    run_worker(profilesync_env)

    run = SyncRun.objects.get(trigger="manual")
    (preview,) = SyncPreview.objects.all()
    done = sorted((c.username, c.action, json.dumps(c.fields, sort_keys=True))
                  for c in PersonChange.objects.filter(run=run))
    predicted = sorted((c["username"], c["action"], json.dumps(c["fields"], sort_keys=True))
                       for c in preview.changes)
    assert run.forced and done == predicted
    assert errors == []
