"""Pure mapping from raw directory attributes to profile values (no server, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profilesync.sync.fieldmap import MappedField, make_attribute_map
from profilesync.sync.mapping import decode_date, entry_digest, lower_keys, map_entry

FIELDS = [
    MappedField("display_name", "text", "displayname"),
    MappedField("title", "text", "title"),
    MappedField("phone", "phone", "telephonenumber"),
    MappedField("languages", "multiselect", "businesscategory"),
    MappedField("birthday", "date", "birthdate"),
    MappedField("picture", "picture", "jpegphoto"),
]
ATTRIBUTE_MAP = make_attribute_map(FIELDS, unique_id_attribute="entryUUID", username_attribute="uid")


def entry(**attributes: list[bytes]) -> dict[str, list[bytes]]:
    return lower_keys({"uid": [b"jdoe"], **attributes})


# -- entry_digest ------------------------------------------------------------

def test_digest_ignores_attributes_the_sync_does_not_map():
    """An entry whose only change is an unmapped attribute (e.g. a password) stays 'unchanged'."""
    before = entry(title=[b"Engineer"])
    after = entry(title=[b"Engineer"], userpassword=[b"new secret"], description=[b"x"])
    assert entry_digest(before, ATTRIBUTE_MAP) == entry_digest(after, ATTRIBUTE_MAP)


def test_digest_changes_when_a_mapped_value_changes():
    """A changed job title is noticed by the next sync."""
    assert entry_digest(entry(title=[b"Engineer"]), ATTRIBUTE_MAP) != entry_digest(
        entry(title=[b"Senior Engineer"]), ATTRIBUTE_MAP
    )


def test_digest_changes_when_the_mapping_changes():
    """Remapping a field re-reads every person, even those whose entries did not change."""
    remapped = make_attribute_map(
        [*FIELDS[:1], MappedField("title", "text", "description"), *FIELDS[2:]],
        unique_id_attribute="entryUUID", username_attribute="uid",
    )
    raw = entry(title=[b"Engineer"], description=[b"Engineer"])
    assert entry_digest(raw, ATTRIBUTE_MAP) != entry_digest(raw, remapped)


def test_digest_tells_value_boundaries_apart():
    """Two values 'a','b' and one value 'ab' are different data, so different digests."""
    assert entry_digest(entry(businesscategory=[b"a", b"b"]), ATTRIBUTE_MAP) != entry_digest(
        entry(businesscategory=[b"ab"]), ATTRIBUTE_MAP
    )


@given(st.dictionaries(st.sampled_from(["title", "telephonenumber", "businesscategory", "ou"]),
                       st.lists(st.binary(max_size=8), min_size=1, max_size=3)))
def test_digest_does_not_depend_on_attribute_order(attributes):
    """The server may answer attributes in any order; the digest stays the same."""
    forwards = entry(**attributes)
    backwards = dict(reversed(list(forwards.items())))
    assert entry_digest(forwards, ATTRIBUTE_MAP) == entry_digest(backwards, ATTRIBUTE_MAP)


# -- decode_date -------------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    (b"20261127093000Z", "2026-11-27"),
    (b"20261127093000.0Z", "2026-11-27"),
    (b"19840229", "1984-02-29"),
    (b"2026-11-27", "2026-11-27"),
    (b"2026-11-27T10:00:00+02:00", "2026-11-27"),
])
def test_decode_date_reads_generalized_time_and_iso_dates(raw, expected):
    """Dates stored as LDAP generalized time or ISO dates show as the same calendar day."""
    assert decode_date(raw) == expected


@pytest.mark.parametrize("raw", [b"", b"next tuesday", b"20261327", b"20261100", b"27.11.2026",
                                 b"20260231", b"2025-02-29", b"2026-04-31"])
def test_decode_date_refuses_what_is_not_a_date(raw):
    """A value that is not a date is not turned into a made-up one."""
    assert decode_date(raw) is None


# -- map_entry ---------------------------------------------------------------

def test_multiselect_keeps_every_value_in_order():
    """A multi-select field fed by a multi-valued attribute shows all its values."""
    mapped = map_entry(entry(businesscategory=[b"Go", b"Python", b"Rust"]), ATTRIBUTE_MAP)
    assert mapped.values["languages"] == ["Go", "Python", "Rust"]


def test_single_valued_field_takes_the_first_value_of_a_multi_valued_attribute():
    """Someone with two phone numbers shows the first one, not a list or an error."""
    mapped = map_entry(entry(telephonenumber=[b"+49 30 1", b"+49 30 2"]), ATTRIBUTE_MAP)
    assert mapped.values["phone"] == "+49 30 1"


def test_non_ascii_text_is_decoded_as_utf8():
    """Names with accents and other scripts show as written."""
    mapped = map_entry(entry(displayname=["Zoë Łukasiewicz 田中".encode()]), ATTRIBUTE_MAP)
    assert mapped.display_name == "Zoë Łukasiewicz 田中"


def test_non_utf8_bytes_do_not_fail_the_person():
    """A value in a legacy encoding is shown with a replacement mark, and the person is imported."""
    mapped = map_entry(entry(title=[b"Gesch\xe4ftsf\xfchrer"]), ATTRIBUTE_MAP)
    assert mapped.values["title"] == "Gesch\ufffdftsf\ufffdhrer"
    assert mapped.username == "jdoe"


def test_date_field_is_stored_as_an_iso_date():
    """A birthday kept as generalized time shows as a plain date."""
    mapped = map_entry(entry(birthdate=[b"19900102000000Z"]), ATTRIBUTE_MAP)
    assert mapped.values["birthday"] == "1990-01-02"
    assert mapped.problems == []


def test_bad_date_is_left_out_and_reported():
    """A date field with garbage is left empty and the report names the field and the value."""
    mapped = map_entry(entry(birthdate=[b"soon"]), ATTRIBUTE_MAP)
    assert "birthday" not in mapped.values
    assert len(mapped.problems) == 1
    assert "birthday" in mapped.problems[0] and "soon" in mapped.problems[0]


def test_picture_bytes_are_kept_unchanged():
    """A photo is carried as the exact bytes of the directory, never decoded as text."""
    photo = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x80\xff"
    mapped = map_entry(entry(jpegphoto=[photo]), ATTRIBUTE_MAP)
    assert mapped.picture == photo
    assert "picture" not in mapped.values


def test_display_name_falls_back_to_the_user_name():
    """A person without a display name is listed under their user name, not as a blank."""
    assert map_entry(entry(), ATTRIBUTE_MAP).display_name == "jdoe"


def test_attributes_without_values_leave_the_field_empty():
    """A field whose attribute the entry lacks is absent, not an empty string."""
    assert map_entry(entry(), ATTRIBUTE_MAP).values == {}
