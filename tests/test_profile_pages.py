"""Profile pages and editing one's own profile, through Django's test client against a real slapd."""

from __future__ import annotations

import io
import re
import socket

import pytest
from django.contrib.auth import get_user_model
from PIL import Image

from profilesync.accounts.backends import user_for_profile
from profilesync.accounts.roles import Role, set_role
from profilesync.profiles.models import FieldAttributeOverride, Profile, ProfileField
from profilesync.profiles.picture_upload import MAX_UPLOAD_BYTES
from profilesync.profiles.self_service import UNREACHABLE_NOTICE
from profilesync.profiles.services import create_field
from profilesync.sync.runner import run_sync
from profilesync.writeback.rules import NOT_ENABLED_GLOBALLY as LOCKED_BY_DIRECTORY

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def corp(subtree, make_directory):
    """alice and bob in one directory, synced, with fields of every type that LDAP does not feed."""
    subtree.add_person("alice", displayName="Alice Archer", title="Engineer", mail="alice@example.org")
    subtree.add_person("bob", displayName="Bob Baker", title="Designer")
    directory = make_directory(subtree)
    create_field("pronouns", {"label": "Pronouns", "category": "About"})
    create_field("bio", {"label": "About me", "type": "multiline", "category": "About"})
    create_field("homepage", {"label": "Homepage", "type": "url", "category": "Contact"})
    create_field("mobile", {"label": "Mobile", "type": "phone", "category": "Contact"})
    create_field("birthday", {"label": "Birthday", "type": "date", "category": "About"})
    create_field("team", {"label": "Team", "type": "select", "options": "Red,Blue"})
    create_field("skills", {"label": "Skills", "type": "multiselect", "options": "Python,LDAP,SQL"})
    create_field("emergency", {"label": "Emergency contact", "category": "Private"})
    ProfileField.objects.filter(key="emergency").update(visible_to=[Role.ADMINISTRATOR.value])
    create_field("shoe_size", {"label": "Shoe size", "shown_in_profile": False})
    run_sync([directory], mode="full")
    return directory


def person(username: str) -> Profile:
    return Profile.objects.get(username=username)


@pytest.fixture
def alice(corp, client) -> Profile:
    """Alice, logged in."""
    profile = person("alice")
    client.force_login(user_for_profile(profile))
    return profile


def edit_url(profile: Profile) -> str:
    return f"/people/{profile.pk}/edit/"


def post_edit(client, profile: Profile, **values):
    return client.post(edit_url(profile), values)


def error_at(html: str, key: str) -> str:
    """The error list shown right at the field ``key`` ("" when there is none)."""
    match = re.search(rf'<ul class="errorlist" id="id_{key}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def section(html: str, category: str) -> str:
    """The part of a profile page under the heading ``category``."""
    match = re.search(rf'<h2 id="section-\d+">{category}</h2>(.*?)</section>', html, re.S)
    return match.group(1) if match else ""


def png(size=(900, 600)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def upload(name: str, data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


@pytest.fixture
def local_pictures(corp):
    """The picture field is not fed by LDAP in this directory, so people upload their own."""
    FieldAttributeOverride.objects.create(field=ProfileField.objects.get(key="picture"),
                                          directory=corp, ldap_attribute="")


# -- the profile page -----------------------------------------------------

def test_profile_page_needs_a_login(client, corp):
    response = client.get(f"/people/{person('alice').pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_profile_page_shows_directory_and_own_values_by_category(client, alice):
    """What the directory holds and what Alice entered herself appear together, grouped."""
    post_edit(client, alice, pronouns="she/her", homepage="https://alice.example.org",
              birthday="1990-02-28", skills=["LDAP", "Python"], shoe_size="38")

    html = client.get(f"/people/{alice.pk}/").content.decode()

    assert "Alice Archer" in html and "Engineer" in html
    assert 'href="mailto:alice@example.org"' in html
    assert "she/her" in html and 'href="https://alice.example.org"' in html
    assert "28 February 1990" in html
    assert "<li>Python</li><li>LDAP</li>" in html
    assert "she/her" in section(html, "About") and "1990" in section(html, "About")
    assert "alice@example.org" in section(html, "Contact") and "alice.example.org" in section(html,
                                                                                        "Contact")
    # Shoe size is not shown in profiles. The History section is left out of the look:
    # it shows sync run numbers and times, which may hold "38" too.
    fields = re.sub(r'<section class="card profile-section change-history".*?</section>', "",
                    html.split("<main", 1)[1], flags=re.S)
    assert "Shoe size" not in fields and "38" not in fields


def test_field_restricted_to_administrators_is_hidden_from_other_users(client, corp):
    """Bob does not see Alice's emergency contact; Alice and an administrator do."""
    alice, bob = person("alice"), person("bob")
    alice.local_values = {"emergency": "Carol, +49 30 555"}
    alice.save()
    page = f"/people/{alice.pk}/"

    client.force_login(user_for_profile(bob))
    seen_by_bob = client.get(page).content.decode()
    client.force_login(user_for_profile(alice))
    seen_by_alice = client.get(page).content.decode()
    admin = get_user_model().objects.create_user("helpdesk")
    set_role(admin, Role.ADMINISTRATOR)
    client.force_login(admin)
    seen_by_admin = client.get(page).content.decode()

    assert "Carol" not in seen_by_bob and "Emergency contact" not in seen_by_bob
    assert "Carol" in seen_by_alice and "Carol" in seen_by_admin
    assert "Restricted" in seen_by_alice


def test_edit_button_only_on_ones_own_profile(client, alice):
    assert "Edit profile" in client.get(f"/people/{alice.pk}/").content.decode()
    assert "Edit profile" not in client.get(f"/people/{person('bob').pk}/").content.decode()


def test_deactivated_profile_is_hidden_from_users_but_not_administrators(client, corp):
    bob = person("bob")
    Profile.objects.filter(username="alice").update(active=False)
    client.force_login(user_for_profile(bob))
    assert client.get(f"/people/{person('alice').pk}/").status_code == 404

    client.force_login(get_user_model().objects.create_superuser("root", password="x-not-used"))
    assert "Deactivated" in client.get(f"/people/{person('alice').pk}/").content.decode()


# -- who may edit -----------------------------------------------------------

def test_nobody_edits_another_persons_profile(client, alice):
    """Opening or posting Bob's edit form as Alice is refused, and Bob's profile stays as it was."""
    bob = person("bob")

    opened = client.get(edit_url(bob))
    posted = post_edit(client, bob, pronouns="hacked")

    assert opened.status_code == 403 and posted.status_code == 403
    assert person("bob").local_values == {}


def test_administrator_cannot_edit_someone_elses_profile_either(client, corp):
    client.force_login(get_user_model().objects.create_superuser("root", password="x-not-used"))
    assert post_edit(client, person("bob"), pronouns="hacked").status_code == 403
    assert person("bob").local_values == {}


def test_edit_needs_a_login(client, corp):
    assert client.get(edit_url(person("alice"))).status_code == 302


def test_posting_a_locked_field_by_hand_changes_nothing(client, alice):
    """Title comes from the directory: a value posted for it is not read, neither into the
    directory values nor into the person's own."""
    response = post_edit(client, alice, title="Chief Everything", display_name="Queen Alice",
                         pronouns="she/her")

    stored = person("alice")
    assert response.status_code == 302
    assert stored.values["title"] == "Engineer" and stored.display_name == "Alice Archer"
    assert stored.local_values == {"pronouns": "she/her"}


# -- the dialog -------------------------------------------------------------

def test_dialog_shows_locked_fields_with_the_reason(client, alice):
    html = client.get(edit_url(alice), **HTMX).content.decode()

    assert html.lstrip().startswith("<dialog")
    assert "These fields come from the directory; write-back to the directory is not enabled." in html
    assert 'name="title"' not in html and "Engineer" in html
    assert 'name="pronouns"' in html


def test_dialog_says_who_sees_a_field_when_not_everyone_does(client, alice):
    html = client.get(edit_url(alice), **HTMX).content.decode()

    assert 'name="shoe_size"' in html and "Not shown on profile pages." in html
    assert 'name="emergency"' in html and "Shown only to the person and administrators." in html


def test_without_javascript_the_editor_is_a_page_of_its_own(client, alice):
    html = client.get(edit_url(alice)).content.decode()

    assert "<dialog" not in html and "<h1>Edit your profile</h1>" in html
    assert f'<a class="button secondary" href="/people/{alice.pk}/">Cancel</a>' in html


def test_single_locked_field_says_why_itself(client, corp, alice):
    """With one field fed by the directory, its reason is said at the field, in the singular."""
    ProfileField.objects.exclude(key="title").update(ldap_attribute="")

    html = client.get(edit_url(alice), **HTMX).content.decode()

    assert LOCKED_BY_DIRECTORY in html and "Engineer" in html


def test_dialog_shows_a_value_changed_in_the_directory_since_the_last_sync(client, subtree, alice):
    """Opening the dialog reads Alice's entry again, so a change made after the sync shows."""
    subtree.modify(f"uid=alice,{subtree.people_dn}", title="Principal Engineer")

    html = client.get(edit_url(alice), **HTMX).content.decode()

    assert "Principal Engineer" in html and UNREACHABLE_NOTICE not in html
    assert person("alice").values["title"] == "Principal Engineer"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dialog_opens_with_stored_values_when_the_directory_is_unreachable(client, corp, alice):
    corp.urls = [f"ldap://127.0.0.1:{closed_port()}"]
    corp.save()

    response = client.get(edit_url(alice), **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert UNREACHABLE_NOTICE in html
    assert "Engineer" in html and 'name="pronouns"' in html


def test_saving_from_the_dialog_sends_the_browser_to_the_profile(client, alice):
    response = client.post(edit_url(alice), {"pronouns": "she/her"}, **HTMX)

    assert response.status_code == 204
    assert response["HX-Redirect"] == f"/people/{alice.pk}/"
    assert "Your profile was saved." in client.get(f"/people/{alice.pk}/").content.decode()


def test_own_values_survive_the_next_sync(client, subtree, corp, alice):
    """The sync rewrites the directory's values; what Alice entered herself stays."""
    post_edit(client, alice, pronouns="she/her", bio="Line one\nLine two")
    subtree.modify(f"uid=alice,{subtree.people_dn}", title="Manager")

    run_sync([corp], mode="full")

    stored = person("alice")
    assert stored.values["title"] == "Manager"
    assert stored.local_values == {"pronouns": "she/her", "bio": "Line one\nLine two"}


def test_emptied_field_is_removed(client, alice):
    post_edit(client, alice, pronouns="she/her", team="Red")
    post_edit(client, alice, pronouns="", team="Red")
    assert person("alice").local_values == {"team": "Red"}


# -- validation messages ------------------------------------------------------

def test_invalid_values_are_shown_at_their_fields_and_nothing_is_saved(client, alice):
    html = post_edit(client, alice, pronouns="she/her", homepage="javascript:alert(1)",
                     mobile="call me", birthday="30.02.1990", team="Green").content.decode()

    assert "web address" in error_at(html, "homepage")
    assert "phone number" in error_at(html, "mobile")
    assert "YYYY-MM-DD" in error_at(html, "birthday")
    assert "valid choice" in error_at(html, "team")
    assert error_at(html, "pronouns") == ""
    assert 'aria-invalid="true"' in html and 'value="she/her"' in html
    assert person("alice").local_values == {}


def test_required_field_left_empty_blocks_saving_with_a_message_at_the_field(client, alice):
    ProfileField.objects.filter(key="pronouns").update(required=True)

    html = post_edit(client, alice, pronouns="  ", team="Red").content.decode()

    assert "This field is required." in error_at(html, "pronouns")
    assert person("alice").local_values == {}


def test_required_field_fed_by_the_directory_does_not_block_saving(client, alice):
    """A required field the person cannot edit is the directory's business, not theirs."""
    ProfileField.objects.filter(key="department").update(required=True)
    assert post_edit(client, alice, pronouns="she/her").status_code == 302


# -- pictures -----------------------------------------------------------------

def test_picture_upload_is_stored_as_a_small_jpeg_and_shown(client, alice, local_pictures):
    response = client.post(edit_url(alice), {"picture": upload("me.png", png((1600, 1200)))})

    assert response.status_code == 302
    stored = person("alice")
    served = client.get(f"/people/{alice.pk}/picture")
    image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
    assert served["Content-Type"] == "image/jpeg"
    assert image.format == "JPEG" and image.size == (512, 384)
    assert stored.local_picture and stored.picture == ""
    assert f'src="/people/{alice.pk}/picture"' in client.get(f"/people/{alice.pk}/").content.decode()


def test_picture_can_be_removed(client, alice, local_pictures):
    client.post(edit_url(alice), {"picture": upload("me.png", png())})
    client.post(edit_url(alice), {"remove-picture": "on"})
    assert person("alice").local_picture == ""


@pytest.mark.parametrize(("name", "data", "message"), [
    ("cv.pdf", b"%PDF-1.7 definitely not a picture", "not a picture"),
    ("huge.jpg", b"\xff\xd8\xff" + b"\0" * MAX_UPLOAD_BYTES, "at most 5 MB"),
    ("bomb.png", None, "million pixels"),
])
def test_unusable_picture_is_refused_with_a_message_at_the_field(client, alice, local_pictures,
                                                                   name, data, message):
    if data is None:
        data = png((12_000, 12_000))
    html = client.post(edit_url(alice), {"picture": upload(name, data),
                                         "pronouns": "she/her"}).content.decode()

    assert message in error_at(html, "picture")
    assert person("alice").local_picture == "" and person("alice").local_values == {}


def test_picture_fed_by_the_directory_is_locked(client, alice):
    """The default picture field comes from jpegPhoto: an upload posted anyway is ignored."""
    html = client.get(edit_url(alice)).content.decode()
    response = client.post(edit_url(alice), {"picture": upload("me.png", png())})

    assert 'type="file"' not in html and "write-back to the directory is not enabled" in html
    assert response.status_code == 302 and person("alice").local_picture == ""
