"""Finding 5, headers: the Content-Security-Policy is on, and every page's scripts and styles
work under it in a real browser (no violation reported, htmx and the edit dialog work)."""

from __future__ import annotations

import pytest

from profilesync.accounts.roles import Role, set_role
from profilesync.profiles.models import Profile
from profilesync.testing.browser_waits import wait_in_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "csp-pw-not-secret-3"
# Every violation is reported to the page (and logged by chromium as a console error).
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    e => window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
"""


@pytest.fixture
def watched(page):
    """The page, recording CSP violations and console errors on every document it loads."""
    errors: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: errors.append(message.text)
            if message.type == "error" else None)
    page.errors = errors
    return page


def violations(page) -> list[str]:
    page.wait_for_load_state("load")
    return page.evaluate("window.__cspViolations || []") + [
        text for text in page.errors if "Content Security Policy" in text]


@pytest.fixture
def wendy(subtree, make_directory, sync_directory, django_user_model):
    """Wendy, a System Administrator from the directory, among other people."""
    subtree.add_person("wendy", displayName="Wendy Walker", title="Engineer",
                       userPassword=PASSWORD)
    for name in ("xavier", "yara", "zoe"):
        subtree.add_person(name, displayName=f"{name.title()} Example")
    sync_directory(make_directory(subtree))
    return Profile.objects.get(username="wendy")


def test_the_policy_is_sent_with_every_page(client, fresh_install):
    policy = client.get("/login/")["Content-Security-Policy"]

    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy


def test_pages_work_under_the_policy(watched, live_server, log_in, wendy, django_user_model):
    page = watched
    log_in(page, live_server, "wendy", PASSWORD)
    set_role(django_user_model.objects.get(username="wendy"), Role.SYSTEM_ADMINISTRATOR)
    assert violations(page) == []

    # The people directory: search as you type (htmx).
    page.goto(f"{live_server.url}/")
    page.wait_for_load_state("load")
    with page.expect_response(lambda r: "q=yar" in r.url):
        page.fill("#q", "yar")
    wait_in_page(page, "!document.body.textContent.includes('Xavier Example')")
    assert "Yara Example" in page.text_content("main")
    assert violations(page) == []

    # One's own profile and its edit dialog (htmx + dialog.js).
    page.click("text=My profile")
    page.wait_for_load_state("load")
    page.click("text=Edit profile")
    page.locator("dialog.edit-profile").wait_for(state="visible")
    assert violations(page) == []

    # The administration pages, with the field table's htmx move.
    for path in ("/admin/fields/", "/admin/people/", "/admin/directories/", "/admin/schedule/",
                 "/admin/data-sources/", "/admin/data-sources/test-write", "/admin/sync/",
                 "/admin/write-back/audit"):
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        assert violations(page) == [], path
    page.goto(f"{live_server.url}/admin/fields/")
    first = page.locator("#field-table tbody tr code").first.text_content()
    with page.expect_response(lambda r: r.url.endswith("/move")):
        page.locator("#field-table tbody tr").nth(1).locator("button[id^=up-]").click()
    wait_in_page(
        page,
        f"document.querySelector('#field-table tbody tr code').textContent !== '{first}'")
    assert violations(page) == []
