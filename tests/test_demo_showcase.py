"""`profilesync demo` shows every feature: a demo person edits a field and it lands in the
demo's own OpenLDAP server; managers make an org chart; some people wrote an About me."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.request

import ldap
import pytest

from profilesync.demo.people import org_levels, org_managers
from profilesync.testing.slapd import free_port


def test_generated_org_chart_is_a_believable_tree():
    managers = org_managers(2000)
    assert managers[0] is None and all(m is not None for m in managers[1:])
    assert all(m < i for i, m in enumerate(managers) if m is not None)  # managers come first
    teams: dict[int, int] = {}
    for manager in managers[1:]:
        teams[manager] = teams.get(manager, 0) + 1
    last = max(teams)  # the last team may be cut short by the end of the people
    assert all(3 <= size <= 12 for manager, size in teams.items() if manager != last)
    assert 3 <= max(org_levels(managers)) <= 6


@pytest.fixture
def demo(tmp_path, wait_for):
    yield from _run_demo(tmp_path, wait_for, "openldap", 40)


@pytest.fixture
def ad_demo(samba_dc, tmp_path, wait_for):
    """The AD demo (``samba_dc`` only ensures the machine can run a DC; the demo has its own)."""
    yield from _run_demo(tmp_path, wait_for, "ad", 6)


def _run_demo(tmp_path, wait_for, kind: str, people: int):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROFILESYNC_")}
    env.update(PROFILESYNC_DATA_DIR=str(tmp_path / "data"), PYTHONUNBUFFERED="1")
    log_path = tmp_path / "demo.log"
    port = free_port()
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "profilesync.cli", "demo", "--directory", kind,
             "--people", str(people),
             "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def running() -> bool:
        assert process.poll() is None, f"the demo exited:\n{log_path.read_text()}"
        return "Stop with Ctrl-C." in log_path.read_text()

    try:
        wait_for(running, what="the demo to serve", timeout=240)

        def login_page_status() -> int | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login/") as answer:
                    return answer.status
            except OSError:  # the banner comes just before the web server listens
                return None

        assert wait_for(login_page_status, what="the login page", timeout=60) == 200
        yield f"http://127.0.0.1:{port}", log_path.read_text()
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)


def test_demo_person_edits_a_field_and_it_lands_in_the_directory(demo, page, screenshot_dir,
                                                                  wait_for):
    url, output = demo
    assert "write-back switched on globally and for title, phone, picture" in output
    (command,) = re.findall(r"ldapsearch -x -LLL -H (ldap://\S+) -b (\S+) ", output)
    directory_url, people_dn = command

    page.goto(f"{url}/login/")
    page.fill("#id_username", "user000001")
    page.fill("#id_password", "demo-password")
    page.click("button[type=submit]")
    page.click("text=My profile")
    page.wait_for_load_state("load")
    # The demo's people have managers: user000001 reports to the CEO.
    assert "Reporting lines" in page.text_content("main")
    assert "Chief Executive Officer" in page.text_content("main")
    page.click("text=Edit profile")
    dialog = page.locator("dialog.edit-profile")
    dialog.wait_for(state="visible")
    dialog.locator("#id_phone").fill("+49 30 5550123")
    dialog.locator("#id_title").fill("Demo Enthusiast")
    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("text=Your profile was saved.")
    page.screenshot(path=str(screenshot_dir / "demo-saved.png"), full_page=True)

    # What the banner's ldapsearch shows: the directory holds the new values.
    conn = ldap.initialize(directory_url)
    (_, entry), = conn.search_s(people_dn, ldap.SCOPE_SUBTREE, "(uid=user000001)",
                                ["telephoneNumber", "title"])
    assert entry["telephoneNumber"] == [b"+49 30 5550123"]
    assert entry["title"] == [b"Demo Enthusiast"]

    page.goto(f"{url}/org/")
    assert page.locator(".org-tree > li").count() == 1  # the CEO at the top
    # One person in four wrote an About me and skills, the CEO (user000000) among them.
    page.click(".org-tree .person-chip")
    page.wait_for_selector("h1:has-text('')")
    main = page.text_content("main")
    assert "About me" in main and "Skills" in main


def test_ad_demo_people_have_managers_and_write_back(ad_demo, page):
    """On the Active Directory demo too: a person's manager is the CEO, and write-back is on."""
    url, output = ad_demo
    assert "write-back switched on globally and for title, phone, picture" in output
    page.goto(f"{url}/login/")
    page.fill("#id_username", "user000001")
    page.fill("#id_password", "Demo-pass-2026")
    page.click("button[type=submit]")
    page.click("text=My profile")
    page.wait_for_load_state("load")
    main = page.text_content("main")
    assert "Reporting lines" in main and "Chief Executive Officer" in main
