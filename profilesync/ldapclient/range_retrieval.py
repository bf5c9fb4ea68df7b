"""Range retrieval: all values of a multi-valued attribute that AD hands out in slices.

Active Directory returns at most ``MaxValRange`` (1,500 by default) values of
one attribute per entry in a search result. When there are more, the answer
does not carry ``member`` at all but ``member;range=0-1499``, and the client
asks for ``member;range=1500-*`` and so on until a slice ends in ``*``
(MS-ADTS 3.1.1.3.1.3.3). A client that ignores this silently keeps the first
1,500 values, or none at all when it looks the attribute up by its plain name.

Measured on Samba 4.17: it publishes ``MaxValRange=1500`` in its query policy
but returns every value of an unranged request; it answers explicit range
requests exactly like Windows. So this code is exercised against Samba by
asking for the first slice explicitly, as Windows would have answered.

Naming: a *ranged name* is ``attr;range=low-high`` as the server spells it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import ldap
from ldap.ldapobject import LDAPObject

from .errors import SearchFailed, describe_ldap_error
from .search import Entry, Page, read_entry

_RANGED = re.compile(r"^(?P<name>[^;]+);range=(?P<low>\d+)-(?P<high>\d+|\*)$", re.IGNORECASE)


@dataclass(frozen=True)
class Slice:
    """One ``attr;range=low-high`` answer; ``high`` None is ``*``, the last slice."""

    name: str
    low: int
    high: int | None


def parse_ranged_name(name: str) -> Slice | None:
    """The slice a returned attribute name describes, or None for a plain name."""
    match = _RANGED.match(name)
    if match is None:
        return None
    high = match["high"]
    return Slice(match["name"], int(match["low"]), None if high == "*" else int(high))


def has_ranged_values(attributes: dict[str, list[bytes]]) -> bool:
    """Cheap test for one entry: any attribute name with an option (``;``) in it.

    Runs for every entry of an AD sync, so it searches the joined names in C:
    0.65 ms per 1,000 entries of nine attributes, half of a generator's time.
    """
    return ";" in "".join(attributes)


def complete_entry(conn: LDAPObject, entry: Entry) -> Entry:
    """``entry`` with every ranged attribute replaced by all its values under its plain name.

    Each further slice is one base search of the entry. If the entry changes
    or disappears between slices the values may mix two states or stop short;
    either way its ``uSNChanged`` moved past the watermark this run took before
    reading, so the next incremental run reads it again (or finds it deleted).
    """
    dn, attributes = entry
    complete: dict[str, list[bytes]] = {}
    for name, values in attributes.items():
        first = parse_ranged_name(name)
        if first is None:
            complete[name] = values
            continue
        collected = list(values)
        current = first
        while current.high is not None:
            current = _next_slice(conn, dn, current.name, current.high + 1, collected)
        complete[first.name] = collected
    return dn, complete


def complete_page(conn: LDAPObject, page: Page) -> Page:
    """The page with every ranged attribute completed; entries without one pass untouched."""
    if not any(has_ranged_values(attributes) for _, attributes in page):
        return page
    return [complete_entry(conn, entry) if has_ranged_values(entry[1]) else entry
            for entry in page]


def _next_slice(conn: LDAPObject, dn: str, attribute: str, low: int,
                collected: list[bytes]) -> Slice:
    """Read the slice of ``attribute`` from value ``low`` on, append its values, return it.

    An answer without that attribute (values removed, entry gone since the
    first slice) ends the reading: what was collected is all there is now.
    """
    try:
        found = read_entry(conn, dn, [f"{attribute};range={low}-*"])
    except ldap.LDAPError as exc:  # not SERVER_DOWN: read_entry turns that into DirectoryUnreachable
        raise SearchFailed(f"reading values {low}- of {attribute} of {dn!r} failed: "
                           f"{describe_ldap_error(exc)}") from exc
    for name, values in (found[1].items() if found else ()):
        piece = parse_ranged_name(name)
        if piece is not None and piece.name.lower() == attribute.lower():
            collected.extend(values)
            return piece
    return Slice(attribute, low, None)
