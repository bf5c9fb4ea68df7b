"""Escaping for values that go into filters and DNs.

Re-exported from python-ldap so the rest of the project has one import for it,
plus helpers that build the two filters we make from input.
"""

from __future__ import annotations

from ldap.dn import escape_dn_chars as _escape_dn_specials
from ldap.filter import escape_filter_chars

__all__ = ["escape_dn_chars", "escape_filter_chars", "equality_filter", "and_filter", "or_filter"]


def escape_dn_chars(value: str) -> str:
    """python-ldap's DN value escaping, plus hex escapes for control characters.

    python-ldap leaves a newline, tab or carriage return as it is, and libldap's
    DN parser drops them at either end of a value, so ``cn=Smith\\n`` would name
    ``cn=Smith``: another entry. Escaped as ``\\0a`` they stay part of the value.
    """
    return "".join(f"\\{ord(c):02x}" if c < " " or c == "\x7f" else c
                   for c in _escape_dn_specials(value))


def equality_filter(attribute: str, value: str) -> str:
    """``(attribute=value)`` with ``value`` escaped, so input cannot widen a search."""
    return f"({attribute}={escape_filter_chars(value)})"


def and_filter(*parts: str) -> str:
    """Join already-valid filters with AND, dropping empty parts."""
    return _join("&", parts)


def or_filter(*parts: str) -> str:
    """Join already-valid filters with OR, dropping empty parts."""
    return _join("|", parts)


def _join(operator: str, parts: tuple[str, ...]) -> str:
    present = [p if p.startswith("(") else f"({p})" for p in parts if p]
    if len(present) == 1:
        return present[0]
    return f"({operator}" + "".join(present) + ")"
