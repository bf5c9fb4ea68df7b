"""Just enough BER to read and write the RFC 4533 (syncrepl) control values.

python-ldap decodes these controls with pyasn1, which measured at about 85 %
of a 100,000-entry refresh (RECIPES.md). The values are tiny fixed shapes, so
a direct reader is both short and about a hundred times faster.
"""

from __future__ import annotations

from collections.abc import Iterator

SEQUENCE = 0x30
SET = 0x31
OCTET_STRING = 0x04
BOOLEAN = 0x01
ENUMERATED = 0x0A


class BERError(ValueError):
    """The bytes are not the BER shape we expected."""


def read_tlv(data: bytes, offset: int = 0) -> tuple[int, bytes, int]:
    """(tag, value, offset after the element) of the element at ``offset``."""
    if offset + 2 > len(data):
        raise BERError("truncated element")
    tag = data[offset]
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise BERError("unsupported length")
        length = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    end = offset + length
    if end > len(data):
        raise BERError("truncated value")
    return tag, data[offset:end], end


def elements(data: bytes) -> Iterator[tuple[int, bytes]]:
    """The (tag, value) pairs one after another in ``data`` (a constructed value)."""
    offset = 0
    while offset < len(data):
        tag, value, offset = read_tlv(data, offset)
        yield tag, value


def encode_tlv(tag: int, value: bytes) -> bytes:
    length = len(value)
    if length < 0x80:
        header = bytes([tag, length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([tag, 0x80 | len(raw)]) + raw
    return header + value
