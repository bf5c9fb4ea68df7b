"""The administration pages in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import pytest

from profilesync.accounts.roles import Role
from profilesync.profiles.models import ProfileField
from profilesync.testing.browser_login import login_maker
from profilesync.testing.browser_waits import wait_in_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "pw-browser-ok-1"


@pytest.fixture
def make_login(django_user_model):
    return login_maker(django_user_model, PASSWORD)


def test_administrator_creates_a_field_and_sees_it_in_the_list(page, live_server, log_in,
                                                               make_login, fresh_install):
    """From the navigation to the new field's row: a refused key first, then a good one."""
    make_login("admin-b", Role.ADMINISTRATOR)
    log_in(page, live_server, "admin-b", PASSWORD)

    page.click("header >> text=Fields")
    page.click("text=Add field")
    page.fill("#id_key", "Office Room")
    page.fill("#id_label", "Office room")
    page.select_option("#id_type", "text")
    page.fill("#id_category", "Contact")
    page.check("#id_searchable")
    page.click("button:has-text('Add field')")
    refused = page.text_content("#row-key")
    page.fill("#id_key", "office_room")
    page.click("button:has-text('Add field')")

    assert "must start with a letter" in refused
    assert page.url.endswith("/admin/fields/")
    last_row = page.locator("#field-table tbody tr").last
    assert "Office room" in last_row.text_content() and "office_room" in last_row.text_content()
    assert ProfileField.objects.get(key="office_room").searchable


def test_moving_a_field_up_updates_the_table_in_place(page, live_server, log_in, make_login,
                                                     fresh_install):
    make_login("admin-c", Role.ADMINISTRATOR)
    log_in(page, live_server, "admin-c", PASSWORD)
    page.goto(f"{live_server.url}/admin/fields/")
    second = ProfileField.objects.order_by("position")[1]

    with page.expect_response(lambda r: r.url.endswith(f"/admin/fields/{second.pk}/move")):
        page.click(f"#up-{second.pk}")
    wait_in_page(
        page,
        f"document.querySelector('#field-table tbody tr code').textContent === '{second.key}'")

    assert ProfileField.objects.order_by("position").first() == second
    assert page.evaluate("performance.getEntriesByType('navigation').length") == 1


def test_a_user_cannot_reach_administration_pages(page, live_server, log_in, make_login,
                                                  fresh_install):
    make_login("plain-user", Role.USER)
    log_in(page, live_server, "plain-user", PASSWORD)

    nav = page.text_content("header")
    answers = {}
    for url in ("/admin/fields/", "/admin/people/", "/admin/directories/", "/admin/schedule/"):
        response = page.goto(f"{live_server.url}{url}")
        answers[url] = (response.status, page.text_content("h1"))

    assert "Fields" not in nav and "Directories" not in nav
    assert all(answer == (403, "This page is for administrators") for answer in answers.values())


def _screenshot_admin_pages(page, live_server, screenshot_dir, suffix: str, directory,
                            field) -> tuple[str, list[str]]:
    """Save the screenshots; return what the connection test said and the pages wider
    than the screen (which a phone would scroll sideways)."""
    too_wide = []
    shots = [
        ("admin-fields", "/admin/fields/"),
        ("admin-field-edit", f"/admin/fields/{field.pk}/"),
        ("admin-field-refused", "/admin/fields/add"),
        ("admin-people", "/admin/people/"),
        ("admin-directories", "/admin/directories/"),
        ("admin-directory-edit", f"/admin/directories/{directory.pk}/"),
        ("admin-schedule", "/admin/schedule/"),
    ]
    for name, url in shots:
        page.goto(f"{live_server.url}{url}")
        if name == "admin-directory-edit":
            page.click("button:has-text('Test connection')")
            page.wait_for_selector("#connection-steps ol.steps")
            tested = page.text_content("#connection-steps")
        if name == "admin-field-refused":
            page.fill("#id_key", "9 lives")
            page.select_option("#id_type", "date")
            page.click("button:has-text('Add field')")
        if page.evaluate("document.documentElement.scrollWidth > window.innerWidth"):
            too_wide.append(name)
        page.screenshot(path=str(screenshot_dir / f"{name}-{suffix}.png"), full_page=True)
    return tested, too_wide


def test_screenshots_of_the_administration_pages(page, phone_page, live_server, log_in,
                                                 make_login, screenshot_dir, subtree,
                                                 make_directory):
    """Every main administration page at desktop and phone width, for a person to look at."""
    subtree.add_people(3)
    directory = make_directory(subtree)
    field = ProfileField.objects.get(key="department")
    make_login("root-b", Role.SYSTEM_ADMINISTRATOR)
    make_login("admin-d", Role.ADMINISTRATOR)

    for tab, suffix in ((page, "desktop"), (phone_page, "phone")):
        log_in(tab, live_server, "root-b", PASSWORD)
        tested, too_wide = _screenshot_admin_pages(tab, live_server, screenshot_dir, suffix,
                                                   directory, field)
        assert "Connection test passed." in tested
        assert too_wide == []

    for suffix in ("desktop", "phone"):
        assert (screenshot_dir / f"admin-schedule-{suffix}.png").stat().st_size > 0
