"""Pure functions from raw directory attributes to profile values.

Nothing here touches the database or the network, so every rule (multi-valued
attributes, non-UTF-8 bytes, dates in generalized time) is unit-tested alone.
"""

from __future__ import annotations

import datetime
import hashlib
import marshal
import re
from dataclasses import dataclass, field

from .fieldmap import AttributeMap

RawAttributes = dict[str, list[bytes]]  # keys lower-case

_GENERALIZED_DATE = re.compile(rb"^(\d{4})(\d{2})(\d{2})")
_ISO_DATE = re.compile(rb"^(\d{4})-(\d{2})-(\d{2})")


def lower_keys(attributes: dict[str, list[bytes]]) -> RawAttributes:
    return {name.lower(): values for name, values in attributes.items()}


def entry_digest(attributes: RawAttributes, attribute_map: AttributeMap) -> str:
    """A digest of exactly the raw values a sync would map, plus the mapping itself.

    Equal digests mean the profile would come out the same, so the entry is
    skipped without decoding. ``marshal`` serialises the value lists in C with
    a type and length before every item, so no two different lists give the
    same bytes, at a fraction of the cost of feeding the hash value by value.
    (A new Python's marshal format would change every digest once; the sync
    then compares values, finds them equal and stores the new digests.)
    """
    raw = marshal.dumps([attributes.get(name) for name in attribute_map.digest_attributes])
    return hashlib.blake2b(raw, digest_size=16, key=attribute_map.signature).hexdigest()


def decode_text(raw: bytes) -> str:
    """Directory strings are UTF-8 by RFC 4517; keep a bad byte visible, not fatal."""
    return raw.decode("utf-8", errors="replace")


def decode_date(raw: bytes) -> str | None:
    """``YYYY-MM-DD`` from generalized time (``20261127…``) or an ISO date, else None."""
    match = _GENERALIZED_DATE.match(raw) or _ISO_DATE.match(raw)
    if not match:
        return None
    try:
        # datetime.date refuses days a month does not have (20260231), not only day 32.
        return datetime.date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        return None


@dataclass
class MappedEntry:
    """One entry turned into what a profile stores."""

    username: str
    values: dict[str, object]
    picture: bytes | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        name = self.values.get("display_name")
        return name if isinstance(name, str) and name else self.username


def map_entry(attributes: RawAttributes, attribute_map: AttributeMap) -> MappedEntry:
    """Decode the mapped attributes of one entry into field values.

    Single-valued field types take the first value the server sent;
    multiselect takes all of them. A value that cannot be decoded for its type
    is left out and described in ``problems`` rather than failing the person.
    """
    username_values = attributes.get(attribute_map.username_attribute)
    username = decode_text(username_values[0]) if username_values else ""
    mapped = MappedEntry(username=username, values={})
    for mapped_field in attribute_map.fields:
        raw_values = attributes.get(mapped_field.attribute)
        if not raw_values:
            continue
        if mapped_field.type == "picture":
            mapped.picture = raw_values[0]
        elif mapped_field.type == "multiselect":
            mapped.values[mapped_field.key] = [decode_text(v) for v in raw_values]
        elif mapped_field.type == "date":
            date = decode_date(raw_values[0])
            if date is None:
                mapped.problems.append(
                    f"field {mapped_field.key}: {decode_text(raw_values[0])!r} "
                    f"in {mapped_field.attribute} is not a date"
                )
            else:
                mapped.values[mapped_field.key] = date
        else:
            mapped.values[mapped_field.key] = decode_text(raw_values[0])
    return mapped
