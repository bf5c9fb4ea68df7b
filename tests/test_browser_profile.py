"""A person's own profile in a real browser: open it, edit a field in the dialog, see it saved."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from profilesync.profiles.models import FieldAttributeOverride, ProfileField
from profilesync.profiles.services import create_field
from profilesync.testing.browser_waits import wait_in_page

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "alice-pw-not-secret-7"


@pytest.fixture
def alice_directory(subtree, make_directory):
    subtree.add_person("alice", displayName="Alice Archer", title="Staff Engineer",
                       departmentNumber="Platform", mail="alice@example.org",
                       telephoneNumber="+49 30 1234567", userPassword=PASSWORD)
    directory = make_directory(subtree)
    create_field("pronouns", {"label": "Pronouns", "category": "About",
                              "help_text": "How you like to be addressed."})
    create_field("bio", {"label": "About me", "type": "multiline", "category": "About"})
    create_field("team", {"label": "Team", "type": "select", "options": "Red,Blue",
                          "category": "About"})
    create_field("skills", {"label": "Skills", "type": "multiselect",
                            "options": "Python,LDAP,SQL", "category": "About"})
    return directory


def open_own_profile(page) -> None:
    """From any page, to one's own profile, once its scripts (htmx) have run."""
    page.click("text=My profile")
    page.wait_for_load_state("load")


def open_dialog(page):
    page.click("text=Edit profile")
    dialog = page.locator("dialog.edit-profile")
    dialog.wait_for(state="visible")
    return dialog


def edit_own_profile(page, live_server, log_in, screenshot_dir, width: str) -> str:
    """Log in as Alice, open her profile and the dialog, change fields, save; return the page text."""
    log_in(page, live_server, "alice", PASSWORD)
    open_own_profile(page)
    page.wait_for_selector("h1:has-text('Alice Archer')")
    page.screenshot(path=str(screenshot_dir / f"profile-{width}.png"), full_page=True)

    dialog = open_dialog(page)
    assert "come from the directory; write-back to the directory is not enabled" in dialog.text_content()
    dialog.locator("#id_pronouns").fill("she/her")
    dialog.locator("#id_bio").fill("Keeps the directory tidy.\nLikes maps.")
    dialog.locator("#id_team").select_option("Blue")
    dialog.get_by_label("LDAP").check()
    page.screenshot(path=str(screenshot_dir / f"profile-edit-dialog-{width}.png"))

    dialog.locator("button[type=submit]").click()
    page.wait_for_selector("text=Your profile was saved.")
    page.screenshot(path=str(screenshot_dir / f"profile-saved-{width}.png"), full_page=True)
    return page.text_content("main")


def test_person_edits_their_own_profile_in_the_dialog(page, live_server, log_in, screenshot_dir,
                                                       alice_directory):
    text = edit_own_profile(page, live_server, log_in, screenshot_dir, "desktop")

    assert "she/her" in text and "Likes maps." in text and "Blue" in text and "LDAP" in text
    assert page.locator("dialog").count() == 0


def test_person_edits_their_own_profile_on_a_phone(phone_page, live_server, log_in, screenshot_dir,
                                                    alice_directory):
    text = edit_own_profile(phone_page, live_server, log_in, screenshot_dir, "phone")
    assert "she/her" in text


def test_closing_the_dialog_saves_nothing(page, live_server, log_in, alice_directory):
    log_in(page, live_server, "alice", PASSWORD)
    open_own_profile(page)
    open_dialog(page).locator("#id_pronouns").fill("they/them")
    page.click("dialog button:has-text('Cancel')")

    page.locator("dialog").wait_for(state="detached")
    page.reload()
    assert "they/them" not in page.text_content("main")


def test_invalid_value_is_shown_in_the_dialog(page, live_server, log_in, screenshot_dir,
                                             alice_directory):
    """The server's message appears at the field, and the dialog stays open for a fix."""
    create_field("mobile", {"label": "Mobile", "type": "phone"})
    log_in(page, live_server, "alice", PASSWORD)
    open_own_profile(page)
    open_dialog(page).locator("#id_mobile").fill("call me maybe")
    page.click("dialog button[type=submit]")

    error = page.locator("#id_mobile_error")
    error.wait_for()
    page.screenshot(path=str(screenshot_dir / "profile-edit-dialog-error-desktop.png"))
    assert "phone number" in error.text_content()
    assert page.locator("dialog.edit-profile").is_visible()
    wait_in_page(page, "document.activeElement.id === 'id_mobile'")  # focus on the error


def test_person_uploads_a_picture_in_the_dialog(page, live_server, log_in, screenshot_dir,
                                                alice_directory):
    """Where the directory keeps no pictures, a person uploads their own and sees it."""
    FieldAttributeOverride.objects.create(field=ProfileField.objects.get(key="picture"),
                                          directory=alice_directory, ldap_attribute="")
    log_in(page, live_server, "alice", PASSWORD)
    open_own_profile(page)
    open_dialog(page)
    page.set_input_files("#id_picture", files=[
        {"name": "me.png", "mimeType": "image/png", "buffer": portrait_png()}])
    page.locator("#id_picture").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshot_dir / "profile-edit-picture-desktop.png"))
    page.click("dialog button[type=submit]")
    page.wait_for_selector("text=Your profile was saved.")

    picture = page.locator("img.avatar.big")
    # The page is there before the picture has arrived: wait for it to load.
    wait_in_page(page, "() => { const img = document.querySelector('img.avatar.big');"
                           " return img && img.complete && img.naturalWidth > 0; }")
    assert picture.evaluate("img => img.naturalWidth") == 384
    page.screenshot(path=str(screenshot_dir / "profile-with-picture-desktop.png"))


def portrait_png() -> bytes:
    image = Image.new("RGB", (768, 1024), "#2f6fd0")
    ImageDraw.Draw(image).ellipse((184, 200, 584, 600), fill="#f2c9a0")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def test_editor_is_a_page_of_its_own_without_javascript(browser, live_server, log_in, screenshot_dir,
                                                        alice_directory):
    """With scripts off, "Edit profile" is a plain link to the same form as a page."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page = context.new_page()
    try:
        log_in(page, live_server, "alice", PASSWORD)
        open_own_profile(page)
        page.click("text=Edit profile")
        page.wait_for_selector("h1:has-text('Edit your profile')")
        page.fill("#id_pronouns", "she/her")
        page.screenshot(path=str(screenshot_dir / "profile-edit-page-nojs-desktop.png"), full_page=True)
        page.click("button[type=submit]")
        page.wait_for_selector("text=Your profile was saved.")

        assert "she/her" in page.text_content("main")
    finally:
        context.close()


def test_dialog_opens_with_a_notice_when_the_directory_is_down(phone_page, live_server, log_in,
                                                               screenshot_dir, alice_directory):
    page = phone_page
    log_in(page, live_server, "alice", PASSWORD)
    alice_directory.urls = ["ldap://127.0.0.1:9"]  # the discard port: nobody answers LDAP there
    alice_directory.save()
    open_own_profile(page)

    dialog = open_dialog(page)

    page.screenshot(path=str(screenshot_dir / "profile-edit-dialog-unreachable-phone.png"))
    assert "could not be reached" in dialog.text_content()
    assert dialog.locator("#id_pronouns").is_editable()
