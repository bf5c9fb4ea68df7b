"""Values people type into their own profile, checked per field type (no database, no server)."""

from __future__ import annotations

import datetime
import io
import warnings

import pytest
from django import forms
from PIL import Image

from profilesync.profiles.access import field_access
from profilesync.profiles.edit_form import form_field_for, stored_value
from profilesync.profiles.models import ProfileField
from profilesync.profiles.picture_upload import (
    MAX_SIDE,
    MAX_UPLOAD_BYTES,
    PictureRefused,
    prepare_picture,
)
from profilesync.writeback.rules import NOT_ENABLED_GLOBALLY as LOCKED_BY_DIRECTORY


def field(type: str, **options) -> ProfileField:
    return ProfileField(key=f"a_{type}", label=type.title(), type=type, **options)


def clean(profile_field: ProfileField, value):
    return form_field_for(profile_field).clean(value)


def refused(profile_field: ProfileField, value) -> str:
    with pytest.raises(forms.ValidationError) as caught:
        clean(profile_field, value)
    return " ".join(caught.value.messages)


@pytest.mark.parametrize("value", ["ada@example.org", "a.b+c@sub.example.co.uk"])
def test_email_accepts_addresses(value):
    assert clean(field("email"), value) == value


@pytest.mark.parametrize("value", ["ada", "ada@", "@example.org", "ada@@example.org"])
def test_email_refuses_what_is_not_an_address(value):
    assert "valid email" in refused(field("email"), value)


def test_url_takes_http_and_https_and_adds_a_missing_scheme():
    assert clean(field("url"), "https://example.org/me") == "https://example.org/me"
    assert clean(field("url"), "example.org") == "https://example.org"


@pytest.mark.parametrize("value", ["javascript:alert(1)", "ftp://example.org/", "http://", "not a url"])
def test_url_refuses_other_schemes_and_junk(value):
    """The profile page links the value, so only web addresses are taken."""
    assert "web address" in refused(field("url"), value)


@pytest.mark.parametrize("value", ["+49 30 1234567", "(030) 123-45 67", "4711", "+1 555 0100 ext. 42",
                                   "030/1234567"])
def test_phone_accepts_numbers_as_people_write_them(value):
    assert clean(field("phone"), value) == value


@pytest.mark.parametrize("value", ["call me", "12", "+49 30 1234567; drop", "1" * 21])
def test_phone_refuses_words_and_implausible_numbers(value):
    assert "phone number" in refused(field("phone"), value)


def test_date_takes_iso_dates_and_is_stored_as_one():
    birthday = field("date")
    assert clean(birthday, "1990-02-28") == datetime.date(1990, 2, 28)
    assert stored_value(birthday, datetime.date(1990, 2, 28)) == "1990-02-28"


@pytest.mark.parametrize("value", ["1990-02-30", "28.02.1990", "yesterday"])
def test_date_refuses_impossible_days_and_other_notations(value):
    assert "YYYY-MM-DD" in refused(field("date"), value)


def test_select_takes_only_its_options():
    team = field("select", options=["Red", "Blue"])
    assert clean(team, "Blue") == "Blue"
    assert "Select a valid choice" in refused(team, "Green")


def test_multiselect_takes_only_its_options_and_keeps_their_order():
    skills = field("multiselect", options=["Python", "LDAP", "SQL"])
    assert stored_value(skills, clean(skills, ["SQL", "Python"])) == ["Python", "SQL"]
    assert "Select a valid choice" in refused(skills, ["Python", "Cobol"])


def test_multiline_text_keeps_its_lines_and_single_line_text_refuses_them():
    assert stored_value(field("multiline"), clean(field("multiline"), "one\r\ntwo")) == "one\ntwo"
    assert "single line" in refused(field("text"), "one\ntwo")


def test_text_is_trimmed_and_limited_in_length():
    assert clean(field("text"), "  she/her  ") == "she/her"
    assert "at most 500" in refused(field("text"), "x" * 501)


@pytest.mark.parametrize("type", ["text", "multiline", "email", "url", "phone", "date", "select",
                                  "multiselect"])
def test_required_field_refuses_an_empty_value_and_optional_one_keeps_nothing(type):
    options = {"options": ["A"]} if "select" in type else {}
    assert "required" in refused(field(type, required=True, **options), "")
    optional = field(type, **options)
    assert stored_value(optional, clean(optional, "")) is None


def test_field_fed_by_the_directory_is_locked_with_the_reason():
    assert field_access(field("text"), "").editable
    locked = field_access(field("text"), "title")
    assert not locked.editable and locked.locked_reason == LOCKED_BY_DIRECTORY


# -- pictures -------------------------------------------------------------

def image_bytes(format: str, size=(800, 600), mode="RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, "teal").save(out, format)
    return out.getvalue()


@pytest.mark.parametrize("format", ["JPEG", "PNG", "WEBP"])
def test_picture_in_a_taken_format_becomes_a_small_jpeg(format):
    stored = Image.open(io.BytesIO(prepare_picture(image_bytes(format, (2000, 1000)))))
    assert stored.format == "JPEG"
    assert stored.size == (MAX_SIDE, MAX_SIDE // 2)


def test_transparent_png_gets_a_white_background():
    stored = Image.open(io.BytesIO(prepare_picture(image_bytes("PNG", (10, 10), mode="RGBA"))))
    assert stored.mode == "RGB"


def test_small_picture_is_not_enlarged():
    assert Image.open(io.BytesIO(prepare_picture(image_bytes("PNG", (100, 80))))).size == (100, 80)


def test_file_that_is_not_a_picture_is_refused():
    with pytest.raises(PictureRefused, match="not a picture"):
        prepare_picture(b"%PDF-1.7 not a picture at all")


def test_gif_is_refused_as_a_format_we_do_not_take():
    with pytest.raises(PictureRefused, match="JPEG, PNG, WebP"):
        prepare_picture(image_bytes("GIF"))


def test_truncated_picture_is_refused_as_damaged():
    with pytest.raises(PictureRefused, match="damaged"):
        prepare_picture(image_bytes("PNG", (400, 400))[:200])


@pytest.mark.parametrize("size", [(8_000, 6_000), (10_000, 10_000), (20_000, 20_000)])
def test_decompression_bomb_is_refused_before_it_is_unpacked(size):
    """A small file that claims a huge canvas is refused from its header alone, whether it is
    above our limit only or above Pillow's own too."""
    bomb = image_bytes("PNG", size, mode="1")
    assert len(bomb) < MAX_UPLOAD_BYTES // 10
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(PictureRefused, match="million pixels"):
            prepare_picture(bomb)


def test_too_large_file_is_refused_with_the_limit():
    with pytest.raises(PictureRefused, match="at most 5 MB"):
        prepare_picture(b"\xff\xd8\xff" + b"\0" * MAX_UPLOAD_BYTES)
