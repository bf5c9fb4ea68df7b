"""Escaping for values that go into filters and DNs.

Re-exported from python-ldap so the rest of the project has one import for it,
plus helpers that build the two filters we make from input.
"""

from __future__ import annotations

from ldap.dn import escape_dn_chars
from ldap.filter import escape_filter_chars

__all__ = ["escape_dn_chars", "escape_filter_chars", "equality_filter", "and_filter"]


def equality_filter(attribute: str, value: str) -> str:
    """``(attribute=value)`` with ``value`` escaped, so input cannot widen a search."""
    return f"({attribute}={escape_filter_chars(value)})"


def and_filter(*parts: str) -> str:
    """Join already-valid filters with AND, dropping empty parts."""
    present = [p if p.startswith("(") else f"({p})" for p in parts if p]
    if len(present) == 1:
        return present[0]
    return "(&" + "".join(present) + ")"
