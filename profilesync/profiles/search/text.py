"""From a profile's names and values to the two columns a search reads; from typed text to words.

``search_text`` holds the words of the person's names and of every searchable
field that everyone may see on profile pages, names first, each once, joined by single spaces;
then one filter token per value of every filterable (select or multi-select)
field. A search for ``ann eng`` asks the index for profiles having a word that
starts with ``ann`` and one that starts with ``eng``; a filter asks for an exact
filter token. ``sort_name`` is the folded display name, so "Ólafur" sorts with
the O's and not after "Zoë".

Everything here is pure: the sync writer, the migration (with historical models)
and the tests call it without a database.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from profilesync.accounts.roles import Role

# A longer word is cut, and so is a longer query word, so it still matches as a prefix.
MAX_WORD = 64
# The words past this many characters are not indexed (a very long searchable text).
MAX_WORDS_LENGTH = 8000
# Query words past this many are ignored: each one is another index lookup.
MAX_QUERY_WORDS = 8
MAX_SORT_NAME = 255
# Filter tokens and the active marker start with "_", which no word does (the
# separators below include it), so typed text never matches them.
FILTER_TOKEN_PREFIX = "_f"
ACTIVE_TOKEN = "_active"

SELECT_TYPES = ("select", "multiselect")

_SEPARATORS = re.compile(r"[\W_]+")
# Every ASCII character that is not a letter or digit, made a space (then str.split).
_ASCII_SEPARATORS = str.maketrans({c: " " for c in map(chr, range(128)) if not c.isalnum()})
# Anything but ASCII and the accents of Latin letters (U+0300-U+036F).
_NOT_LATIN = re.compile(r"[^\x00-\x7f\u0300-\u036f]")
# Letters that Unicode does not decompose into a base letter and an accent.
_BASE_LETTERS = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i",
                               "æ": "ae", "œ": "oe", "þ": "th"})

# The sync computes a search text for every person it writes (100,000 in a first
# import), so folding is on its path: ASCII needs only lower(), accented Latin text
# loses its accents with one encode, and only other scripts take the slow way.


def fold(text: str) -> str:
    """Lower case without accents: "Søren Öztürk" -> "soren ozturk"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    if _NOT_LATIN.search(decomposed) is None:
        return decomposed.encode("ascii", "ignore").decode("ascii")
    decomposed = unicodedata.normalize("NFKD", decomposed.translate(_BASE_LETTERS))
    if _NOT_LATIN.search(decomposed) is None:  # "Søren", "Łukasz"
        return decomposed.encode("ascii", "ignore").decode("ascii")
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _split(folded: str) -> list[str]:
    if folded.isascii():
        return folded.translate(_ASCII_SEPARATORS).split()
    return [word for word in _SEPARATORS.split(folded) if word]


def words(text: str) -> list[str]:
    """The folded words of ``text``: "Anna-Lena O'Brien" -> ["anna", "lena", "o", "brien"]."""
    return [word[:MAX_WORD] for word in _split(fold(text))]


def query_words(query: str) -> list[str]:
    """The words a search asks for, each once, at most :data:`MAX_QUERY_WORDS`."""
    return list(dict.fromkeys(words(query)))[:MAX_QUERY_WORDS]


@functools.lru_cache(maxsize=4096)  # a pure memo: select fields have few values
def filter_token(key: str, value: str) -> str:
    """The token standing for "field ``key`` has ``value``" (case and accents ignored)."""
    digest = hashlib.blake2b(f"{key}\0{fold(value).strip()}".encode(), digest_size=6)
    return FILTER_TOKEN_PREFIX + digest.hexdigest()


def visible_to_everyone(field) -> bool:
    """Whether every role sees ``field`` on other people's profiles (``visible_to`` empty
    or including users). A restricted field is neither searched nor filtered on: a search
    would tell anyone which people have which value."""
    visible_to = getattr(field, "visible_to", None) or []
    return not visible_to or Role.USER.value in visible_to


@dataclass(frozen=True)
class SearchFields:
    """Which profile fields the search text is made of."""

    word_keys: tuple[str, ...] = ()  # searchable fields: their words
    filter_keys: tuple[str, ...] = ()  # select fields: one filter token per value

    @classmethod
    def of(cls, fields: Iterable) -> SearchFields:
        """From ProfileField rows (or historical models in a migration), in their order."""
        word_keys: list[str] = []
        filter_keys: list[str] = []
        for field in fields:
            if field.type == "picture" or not visible_to_everyone(field):
                continue
            if field.searchable and field.shown_in_profile:
                # A field no profile page shows must not be found through its words either.
                word_keys.append(field.key)
            if field.type in SELECT_TYPES and field.shown_in_profile:
                filter_keys.append(field.key)
        return cls(tuple(word_keys), tuple(filter_keys))


def shown_value(values: Mapping, local_values: Mapping, key: str) -> object:
    """A field's value as the directory shows it: the directory's, else the person's own."""
    value = values.get(key)
    if value is None or value == "" or value == []:
        value = local_values.get(key)
    return value


def value_texts(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(item) for item in value if item is not None and str(item).strip()]
    text = str(value)
    return [text] if text.strip() else []


def search_text(display_name: str, username: str, values: Mapping | None,
                local_values: Mapping | None, fields: SearchFields) -> str:
    values = values or {}
    local_values = local_values or {}
    texts = [display_name, username]
    for key in fields.word_keys:
        value = values.get(key) or local_values.get(key)  # shown_value, inlined: the sync's path
        if isinstance(value, str):
            texts.append(value)
        elif value is not None:
            texts.extend(value_texts(value))
    unique = dict.fromkeys(_split(fold(" ".join(texts))))
    if max(map(len, unique), default=0) > MAX_WORD:
        unique = dict.fromkeys(word[:MAX_WORD] for word in unique)
    kept = " ".join(unique)
    if len(kept) > MAX_WORDS_LENGTH:
        kept = kept[:kept.rfind(" ", 0, MAX_WORDS_LENGTH + 1)]
    tokens = []
    for key in fields.filter_keys:
        value = shown_value(values, local_values, key)
        if isinstance(value, str):
            if value.strip():
                tokens.append(filter_token(key, value))
        elif value is not None:
            tokens.extend(filter_token(key, text) for text in value_texts(value))
    if not tokens:
        return kept
    return " ".join([kept, *sorted(set(tokens))] if kept else sorted(set(tokens)))


def sort_name(display_name: str, username: str) -> str:
    return " ".join(fold(display_name or username).split())[:MAX_SORT_NAME]


def search_columns(display_name: str, username: str, values: Mapping | None,
                   local_values: Mapping | None, fields: SearchFields) -> tuple[str, str]:
    """``(search_text, sort_name)`` of one profile."""
    return (search_text(display_name, username, values, local_values, fields),
            sort_name(display_name, username))
