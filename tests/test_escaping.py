"""Filter and DN escaping: input can never widen a search or move a DN."""

from __future__ import annotations

import re

import ldap
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from ldap.dn import str2dn

from profilesync.ldapclient.escaping import (
    and_filter,
    equality_filter,
    escape_dn_chars,
    escape_filter_chars,
    or_filter,
)
from profilesync.ldapclient.search import paged_search

# Text python-ldap can send: no lone surrogates (not encodable as UTF-8).
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=30)
FILTER_SPECIALS = st.text(alphabet="()*\\\x00=&|!~<>ab", min_size=1, max_size=12)

# One equality assertion: "(attr=" then plain characters or \XX escapes, then ")".
_ONE_ASSERTION = re.compile(r"\(description=((?:[^()*\\\x00]|\\[0-9a-f]{2})*)\)", re.DOTALL)


def _unescape(escaped: str) -> str:
    return re.sub(r"\\([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), escaped)


@given(st.one_of(TEXT, FILTER_SPECIALS))
def test_escaped_filter_value_stays_one_equality_assertion(value):
    """Whatever a user types, the filter stays a single (attribute=value) test of that exact value."""
    match = _ONE_ASSERTION.fullmatch(equality_filter("description", value))
    assert match is not None
    assert _unescape(match.group(1)) == value


@given(TEXT)
@example("Smith\n")  # libldap drops an unescaped newline at the end: another entry's DN
@example("\t")
def test_escaped_dn_value_is_one_rdn_value(value):
    """A name with commas, plus signs or quotes stays one RDN value and cannot add DN parts."""
    parsed = str2dn(f"cn={escape_dn_chars(value)},ou=people,dc=example,dc=org")
    assert [[(t, v) for t, v, _ in rdn] for rdn in parsed] == [
        [("cn", value)], [("ou", "people")], [("dc", "example")], [("dc", "org")],
    ]


def test_and_filter_joins_and_wraps():
    """Filters are joined with AND; a lone filter stays as it is; bare ones get parentheses."""
    assert and_filter("(a=b)") == "(a=b)"
    assert and_filter("a=b") == "(a=b)"
    assert and_filter("(a=b)", "", "(c=d)") == "(&(a=b)(c=d))"


def test_or_filter_joins_and_wraps():
    """The login search matches any of several attributes (AD: sAMAccountName or UPN)."""
    assert or_filter("(a=b)") == "(a=b)"
    assert or_filter("(a=b)", "", "c=d") == "(|(a=b)(c=d))"


# Values stored in the directory whose filter text would match more than themselves
# if sent unescaped. All lower case and without spaces, so the server's case- and
# space-insensitive matching rule cannot blur exact equality.
TRICKY = ["*", "a*", "*)(uid=*", "(a)", "a\\2a", "a\\b", "x)(|(description=*)", "é*"]


@pytest.fixture(scope="module")
def tricky_entries(make_subtree):
    subtree = make_subtree()
    for index, description in enumerate(TRICKY):
        subtree.add_person(f"tricky{index}", description=description)
    subtree.add_person("plain", description="plain")
    return subtree


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.sampled_from(TRICKY), FILTER_SPECIALS))
def test_server_matches_exactly_the_escaped_value(tricky_entries, value):
    """Searching the real server for a typed value finds only entries with that exact value."""
    conn = tricky_entries.server.connect()
    try:
        filterstr = and_filter("(objectClass=inetOrgPerson)", equality_filter("description", value))
        found = {attributes["description"][0].decode()
                 for page in paged_search(conn, tricky_entries.dn, filterstr, ["description"])
                 for _dn, attributes in page}
    finally:
        conn.unbind_s()
    assert found == ({value} if value in TRICKY else set())


def test_unescaped_wildcard_would_match_everyone(tricky_entries):
    """The previous test has teeth: an unescaped '*' matches every entry of the subtree."""
    conn = tricky_entries.server.connect()
    try:
        results = conn.search_s(tricky_entries.dn, ldap.SCOPE_SUBTREE, "(description=*)")
    finally:
        conn.unbind_s()
    assert len(results) == len(TRICKY) + 1
    assert escape_filter_chars("*") == "\\2a"
