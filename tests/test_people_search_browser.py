"""The people directory in a real browser (Debian's chromium driven by Playwright)."""

from __future__ import annotations

import random

import pytest

from profilesync.demo.people import DEPARTMENTS, FAMILY_NAMES, GIVEN_NAMES, TITLES, make_photo
from profilesync.profiles.search.text import fold
from profilesync.sync.runner import run_sync
from profilesync.testing.browser_waits import wait_in_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "alice-pw-not-secret-9"
NO_RELOAD = "window.__stillTheSamePage === true"


@pytest.fixture
def staff(subtree, make_directory):
    """Alice and 40 colleagues, some with photos, synced from the directory."""
    subtree.add_person("alice", displayName="Alice Archer", title="Staff Engineer",
                       departmentNumber="Engineering", mail="alice@example.org",
                       telephoneNumber="+49 30 1234567", userPassword=PASSWORD)
    rng = random.Random(7)
    for index in range(40):
        name = f"{rng.choice(GIVEN_NAMES)} {rng.choice(FAMILY_NAMES)}"
        extra = {"jpegPhoto": make_photo(index)} if index % 3 == 0 else {}
        subtree.add_person(f"user{index:02d}", displayName=name, title=rng.choice(TITLES),
                           departmentNumber=rng.choice(DEPARTMENTS[:4]),
                           mail=f"user{index:02d}@example.org",
                           telephoneNumber=f"+49 30 {rng.randrange(1000000, 9999999)}", **extra)
    subtree.add_person("anneke", displayName="Anneke Annan", title="Analyst",
                       departmentNumber="Finance", mail="anneke@example.org")
    directory = make_directory(subtree)
    run_sync([directory], mode="full")
    return directory


def screenshot(page, path) -> None:
    page.wait_for_load_state("networkidle")  # the thumbnails
    page.screenshot(path=str(path), full_page=True)


def result_count(page) -> int:
    return page.evaluate("document.querySelectorAll('#people-results li, #people-results tbody tr')"
                         ".length")


def type_search(page, text: str) -> None:
    """Type like a person, then wait until the results show the search for the whole text."""
    page.locator("#q").press_sequentially(text, delay=60)
    wait_in_page(
        page,
        "q => new URLSearchParams(location.search).get('q') === q "
        "&& !document.querySelector('#people-search.htmx-request')", arg=page.input_value("#q"))


def test_typing_narrows_the_results_without_a_reload_and_the_table_view_sticks(
        page, live_server, log_in, staff, screenshot_dir):
    log_in(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("#people-results li")
    everyone = result_count(page)
    screenshot(page, screenshot_dir / "people-desktop.png")
    page.evaluate("window.__stillTheSamePage = true")

    type_search(page, "ann")
    narrowed = page.locator("#people-results strong").all_text_contents()

    page.click("#view-table")
    page.wait_for_selector("#people-results table")
    table_url = page.url
    page.locator("#q").press("End")
    type_search(page, "eke")
    screenshot(page, screenshot_dir / "people-table-desktop.png")

    assert everyone == 42
    assert 0 < len(narrowed) < everyone and "Anneke Annan" in narrowed
    assert all(any(word.startswith("ann") for word in fold(name).split()) for name in narrowed)
    assert "view=table" in table_url and "q=ann" in table_url
    assert page.locator("#people-results table").count() == 1  # still a table after typing
    assert page.locator("#people-results tbody a.person > span:last-child").all_text_contents() == [
        "Anneke Annan"]
    assert page.text_content("#people-count").strip() == "1 person"
    assert page.evaluate(NO_RELOAD)


def test_filter_by_department_and_page_back_with_the_keyboard(page, live_server, log_in, staff):
    """The department filter narrows the list; Enter in the search box searches in place."""
    log_in(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("#people-results li")
    page.evaluate("window.__stillTheSamePage = true")

    page.select_option("#filter-department", "Finance")
    wait_in_page(page, "new URLSearchParams(location.search).get('f-department') === 'Finance'"
                           " && !document.querySelector('#people-search.htmx-request')")
    finance = page.locator("#people-results .who .muted").all_text_contents()
    page.focus("#q")
    page.keyboard.type("annan")
    page.keyboard.press("Enter")
    wait_in_page(page, "new URLSearchParams(location.search).get('q') === 'annan'"
                           " && !document.querySelector('#people-search.htmx-request')")

    assert finance and all(line.endswith("Finance") for line in finance)
    assert page.locator("#people-results strong").all_text_contents() == ["Anneke Annan"]
    assert page.evaluate(NO_RELOAD)


def test_the_directory_on_a_phone(phone_page, live_server, log_in, staff, screenshot_dir):
    """Nothing wider than the screen, tiles and table alike; screenshots to look at."""
    page = phone_page
    log_in(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("#people-results li")
    screenshot(page, screenshot_dir / "people-phone.png")
    too_wide = page.evaluate("document.documentElement.scrollWidth > window.innerWidth")

    type_search(page, "a")
    page.click("#view-table")
    page.wait_for_selector("#people-results table")
    screenshot(page, screenshot_dir / "people-table-phone.png")

    assert not too_wide
    assert not page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


def test_an_administrator_shows_deactivated_people(page, live_server, log_in, staff,
                                                   django_user_model, screenshot_dir):
    """The checkbox only administrators get adds deactivated people, marked as such."""
    from profilesync.accounts.roles import Role, set_role
    from profilesync.profiles.models import Profile

    Profile.objects.filter(username="anneke").update(active=False)
    set_role(django_user_model.objects.create_user("admin-p", password=PASSWORD),
             Role.ADMINISTRATOR)
    log_in(page, live_server, "admin-p", PASSWORD)
    page.wait_for_selector("#people-results li")
    type_search(page, "annan")
    hidden = page.text_content("#people-count").strip()

    page.check("input[name=inactive]")
    wait_in_page(page, "new URLSearchParams(location.search).get('inactive') === '1'"
                           " && !document.querySelector('#people-search.htmx-request')")
    screenshot(page, screenshot_dir / "people-admin-deactivated-desktop.png")

    assert hidden == "No one found"
    assert page.locator("#people-results li").all_text_contents()[0].split() == [
        "A", "Anneke", "Annan", "Analyst", "·", "Finance", "Deactivated"]
