"""The org chart and business cards in a real browser, at desktop and phone width."""

from __future__ import annotations

import pytest

from profilesync.demo.people import make_photo
from profilesync.sync.runner import run_sync

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "cleo-pw-not-secret-9"


@pytest.fixture
def company(subtree, make_directory):
    """A CEO, two managers, their teams (with pictures) and someone with a long title."""
    people = subtree.people_dn
    subtree.add_person("ceo", displayName="Cleo Chief", title="Chief Executive Officer",
                       departmentNumber="Board", mail="ceo@example.org",
                       telephoneNumber="+1 555 0100", jpegPhoto=make_photo(1),
                       userPassword=PASSWORD)
    subtree.add_person("cto", displayName="Theo Tech", title="Chief Technology Officer",
                       departmentNumber="Engineering", manager=f"uid=ceo,{people}",
                       mail="cto@example.org", telephoneNumber="+1 555 0101",
                       jpegPhoto=make_photo(2))
    subtree.add_person("cfo", displayName="Fay Finance", title="Chief Financial Officer",
                       departmentNumber="Finance", manager=f"uid=ceo,{people}")
    for n in range(5):
        subtree.add_person(f"dev{n}", displayName=f"Devon Developer {n}",
                           title="Senior Software Engineer, Platform and Infrastructure",
                           departmentNumber="Engineering", manager=f"uid=cto,{people}",
                           **({"jpegPhoto": make_photo(10 + n)} if n % 2 else {}))
    subtree.add_person("acc", displayName="Ada Accountant", title="Accountant",
                       manager=f"uid=cfo,{people}")
    directory = make_directory(subtree)
    run_sync([directory], mode="full")
    return directory


def shot(page, path) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(path), full_page=True)


def expand(page, name: str) -> None:
    button = page.get_by_role("button", name=f"Team of {name}")
    button.click()
    page.wait_for_selector(f"[aria-label='Team of {name}']:not([hidden]) li")


def test_org_chart_expands_level_by_level_with_the_keyboard(page, live_server, log_in, company,
                                                            screenshot_dir):
    log_in(page, live_server, "ceo", PASSWORD)
    page.goto(f"{live_server.url}/org/")
    assert page.locator(".org-tree > li").count() == 1  # only the CEO at the top
    assert page.get_by_text("Theo Tech", exact=True).count() == 0
    requests = []
    page.on("request", lambda r: requests.append(r.url) if "/reports" in r.url else None)

    # Keyboard only: Tab to the CEO's team button, Enter opens one level.
    toggle = page.get_by_role("button", name="Team of Cleo Chief")
    toggle.focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("text=Theo Tech")
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_text("Devon Developer 1", exact=True).count() == 0  # not the next level yet
    expand(page, "Theo Tech")
    assert page.get_by_text("Devon Developer 4", exact=True).count() == 1
    assert len(requests) == 2  # one request per level opened
    shot(page, screenshot_dir / "org-desktop.png")

    page.keyboard.press("Shift+Tab")  # back on a toggle: Space closes it again
    toggle.focus()
    page.keyboard.press(" ")
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not page.get_by_text("Theo Tech", exact=True).is_visible()


def test_org_chart_at_phone_width_and_search_jump(phone_page, live_server, log_in, company,
                                                  screenshot_dir):
    page = phone_page
    log_in(page, live_server, "ceo", PASSWORD)
    page.goto(f"{live_server.url}/org/")
    page.locator("#org-q").press_sequentially("devon developer 3", delay=30)
    page.wait_for_selector("#org-matches a")
    page.click("#org-matches a")
    page.wait_for_selector("h1:has-text('Devon Developer 3')")
    # Centred on one person: the chain above, top first.
    chain = page.locator(".org-chain .name").all_text_contents()
    assert chain == ["Cleo Chief", "Theo Tech"]
    # Nothing sticks out sideways at phone width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.goto(f"{live_server.url}/org/{_pk(page, live_server, 'ceo')}/")
    expand(page, "Theo Tech")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, screenshot_dir / "org-phone.png")


def _pk(page, live_server, username: str) -> int:
    from profilesync.profiles.models import Profile

    return Profile.objects.get(username=username).pk


def test_business_card_on_hover_and_focus(page, phone_page, live_server, log_in, company,
                                          screenshot_dir):
    log_in(page, live_server, "ceo", PASSWORD)
    page.goto(f"{live_server.url}/")
    page.wait_for_selector("#people-results li")
    page.hover("#people-results a:has-text('Theo Tech')")
    card = page.locator("#business-card")
    card.wait_for(state="visible")
    assert "Chief Technology Officer" in card.inner_text()
    assert "+1 555 0101" in card.inner_text() and "Cleo Chief" in card.inner_text()
    shot(page, screenshot_dir / "business-card-desktop.png")
    page.keyboard.press("Escape")
    card.wait_for(state="hidden")

    # Focus (keyboard) shows it too, in the org chart.
    page.goto(f"{live_server.url}/org/")
    page.locator(".org-tree .person-chip").first.focus()
    card.wait_for(state="visible")
    assert "Chief Executive Officer" in card.inner_text()

    log_in(phone_page, live_server, "ceo", PASSWORD)
    phone_page.goto(f"{live_server.url}/")
    phone_page.wait_for_selector("#people-results li")
    phone_page.locator("#people-results a:has-text('Fay Finance')").focus()
    phone_card = phone_page.locator("#business-card")
    phone_card.wait_for(state="visible")
    box = phone_card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390 + 1
    shot(phone_page, screenshot_dir / "business-card-phone.png")
