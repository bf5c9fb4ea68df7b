"""Stored pictures: one copy per content, read back byte for byte, old files still shown."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from profilesync.demo.people import make_photo
from profilesync.profiles.models import StoredPicture
from profilesync.profiles.pictures import picture_bytes, picture_name, store_picture, store_pictures

pytestmark = pytest.mark.django_db


def test_a_picture_is_stored_once_under_its_content_name():
    """Storing the same bytes twice keeps one copy, named by the content."""
    photo = make_photo(3)

    first, second = store_picture(photo), store_picture(photo)

    assert first == second == picture_name(photo)
    assert first.endswith(".jpg")
    assert StoredPicture.objects.count() == 1
    assert picture_bytes(first) == photo


def test_many_pictures_in_one_call_some_already_stored():
    """A page's pictures go in together; those already stored are left as they are."""
    photos = {picture_name(p): p for p in (make_photo(i) for i in range(5))}
    store_picture(make_photo(0))

    store_pictures(photos)

    assert StoredPicture.objects.count() == 5
    assert all(picture_bytes(name) == data for name, data in photos.items())


def test_picture_kept_as_a_file_before_pictures_moved_to_the_database_is_still_read():
    """A picture saved in the media storage by an earlier version is still shown."""
    photo = make_photo(8)
    name = default_storage.save(picture_name(photo), ContentFile(photo))

    assert picture_bytes(name) == photo
    assert picture_bytes("pictures/00/none.jpg") is None
    assert picture_bytes("") is None
