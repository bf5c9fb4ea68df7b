"""What a profile stores for the search, and what typed text becomes: pure functions."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from profilesync.profiles.search.text import (
    ACTIVE_TOKEN,
    MAX_WORD,
    MAX_WORDS_LENGTH,
    SearchFields,
    filter_token,
    fold,
    query_words,
    search_columns,
    search_text,
    sort_name,
    words,
)

FIELDS = SearchFields(word_keys=("title", "mail"), filter_keys=("department",))


def field(key, type="text", searchable=False, shown_in_profile=True, visible_to=()):
    return SimpleNamespace(key=key, type=type, searchable=searchable,
                           shown_in_profile=shown_in_profile, visible_to=list(visible_to))


@pytest.mark.parametrize("text, folded", [
    ("Søren Øby", "soren oby"),
    ("Ólafur Öztürk", "olafur ozturk"),
    ("Łukasz Wójcik", "lukasz wojcik"),
    ("STRASSE Straße", "strasse strasse"),
    ("Zoë", "zoe"),
    ("Иван Йорданов", "иван иорданов"),
    ("東京 Tokyo", "東京 tokyo"),
])
def test_fold_lowers_and_drops_accents_in_every_script(text, folded):
    assert fold(text) == folded


def test_words_split_at_anything_not_a_letter_or_digit():
    assert words("Anna-Lena O'Brien <anna_lena@example.org> +49 30") == [
        "anna", "lena", "o", "brien", "anna", "lena", "example", "org", "49", "30"]


def test_query_words_are_each_asked_once_and_few():
    assert query_words("  Ann  ann, SMI ") == ["ann", "smi"]
    assert len(query_words(" ".join(f"w{i}" for i in range(20)))) == 8


def test_search_text_has_names_first_then_searchable_fields_then_filter_tokens():
    text = search_text("Søren Øby", "soby", {"title": "Senior Engineer", "phone": "+49 30 1",
                                             "mail": "soby@example.org", "department": "R&D"},
                       {}, FIELDS)

    assert text == ("soren oby soby senior engineer example org "
                    + filter_token("department", "R&D"))


def test_a_field_people_fill_in_counts_when_the_directory_has_no_value():
    text = search_text("Ann", "ann", {"title": ""}, {"title": "Gardener", "mail": "x@y.z"}, FIELDS)
    assert text.split()[:3] == ["ann", "gardener", "x"]


def test_a_multi_select_gives_a_filter_token_per_value():
    fields = SearchFields(filter_keys=("skills",))
    text = search_text("Ann", "ann", {"skills": ["SQL", "LDAP"]}, {}, fields)
    assert set(text.split()[1:]) == {filter_token("skills", "SQL"), filter_token("skills", "LDAP")}


def test_filter_tokens_ignore_case_and_accents_and_never_look_like_typed_words():
    assert filter_token("department", "Développement") == filter_token("department",
                                                                       "developpement ")
    assert filter_token("department", "Sales") != filter_token("team", "Sales")
    token = filter_token("department", "Sales")
    assert token.startswith("_") and words(token) != [token]
    assert words(ACTIVE_TOKEN) != [ACTIVE_TOKEN]


def test_long_words_are_cut_and_long_texts_end_at_a_word():
    many = " ".join(f"word{i}" for i in range(3000))
    text = search_text("A", "a", {"title": "x" * 100 + " " + many}, {},
                       SearchFields(word_keys=("title",)))

    assert text.split()[:2] == ["a", "x" * MAX_WORD]
    assert len(text) <= MAX_WORDS_LENGTH and not text.endswith(" ")


def test_which_fields_are_searched_and_filtered():
    fields = SearchFields.of([
        field("title", searchable=True),
        field("department", type="select", searchable=True),
        field("team", type="select"),
        field("hidden_select", type="select", shown_in_profile=False),
        field("salary", searchable=True, visible_to=["administrator"]),
        field("note", searchable=True, visible_to=["user", "administrator"]),
        field("photo", type="picture", searchable=True),
    ])

    assert fields.word_keys == ("title", "department", "note")
    assert fields.filter_keys == ("department", "team")


def test_sort_name_is_the_folded_display_name_or_the_user_name():
    assert search_columns("  Ólafur   Dubois ", "od", {}, {}, SearchFields())[1] == "olafur dubois"
    assert sort_name("", "jdoe") == "jdoe"


@given(st.text(max_size=60))
def test_every_typed_word_finds_the_text_it_came_from(typed):
    """Whatever someone's name is, typing it finds them: each query word is a word of the
    search text (so a prefix of one)."""
    stored = set(search_text(typed, "u", {}, {}, SearchFields()).split())
    assert all(word in stored for word in query_words(typed))
    assert all(" " not in word and word and not word.startswith("_") for word in stored)
