"""Finding 3: a restricted picture is not served to someone the profile page hides it from.

Profile ids are sequential, so ``/people/<id>/picture`` must follow the page's own
rule: the picture field shown on profiles and visible to the viewer.
"""

from __future__ import annotations

import pytest

from profilesync.accounts.roles import Role, set_role
from profilesync.demo.people import make_photo
from profilesync.profiles.models import Profile, ProfileField
from profilesync.testing.web_clients import browser_client

pytestmark = pytest.mark.django_db

ADMINISTRATORS_ONLY = [Role.SYSTEM_ADMINISTRATOR.value, Role.ADMINISTRATOR.value]


@pytest.fixture
def pat(subtree, make_directory, sync_directory, django_user_model):
    """Pat has a photo in the directory, and a login."""
    subtree.add_person("pat", jpegPhoto=make_photo(7))
    sync_directory(make_directory(subtree))
    profile = Profile.objects.get(username="pat")
    profile.user = django_user_model.objects.create_user("pat")
    profile.save(update_fields=["user"])
    return profile


def viewer(django_user_model, role: Role | None, user=None):
    client = browser_client()
    if user is None:
        user = django_user_model.objects.create_user(f"viewer-{role.value}")
        set_role(user, role)
    client.force_login(user)
    return client


def picture_status(client, profile: Profile) -> int:
    return client.get(f"/people/{profile.pk}/picture").status_code


def test_a_picture_for_everyone_is_served_to_every_signed_in_person(pat, django_user_model):
    assert picture_status(viewer(django_user_model, Role.USER), pat) == 200
    assert picture_status(browser_client(), pat) == 302  # anonymous: log in first


def test_a_picture_shown_only_to_administrators_is_hidden_from_users(pat, django_user_model):
    ProfileField.objects.filter(key="picture").update(visible_to=ADMINISTRATORS_ONLY)
    user = viewer(django_user_model, Role.USER)

    page = user.get(f"/people/{pat.pk}/").content.decode()

    assert f"/people/{pat.pk}/picture" not in page
    assert picture_status(user, pat) == 404
    assert picture_status(viewer(django_user_model, Role.ADMINISTRATOR), pat) == 200
    assert picture_status(viewer(django_user_model, None, user=pat.user), pat) == 200


def test_a_picture_not_shown_on_profiles_is_served_to_no_one(pat, django_user_model):
    ProfileField.objects.filter(key="picture").update(shown_in_profile=False)

    for role in Role:
        assert picture_status(viewer(django_user_model, role), pat) == 404, role
