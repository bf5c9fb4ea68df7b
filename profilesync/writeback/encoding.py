"""Profile values as LDAP attribute values, and pictures shrunk to fit their attribute.

Pure functions: the rules (multiselect is several values, empty deletes, a
picture is re-encoded as JPEG until it fits) are tested without a server.
"""

from __future__ import annotations

import hashlib
import io

from PIL import Image, UnidentifiedImageError

# Active Directory allows at most 100 KB in thumbnailPhoto.
PICTURE_LIMITS = {"thumbnailphoto": 100 * 1024, "jpegphoto": 512 * 1024}
DEFAULT_PICTURE_LIMIT = 100 * 1024


class UnwritableValue(ValueError):
    """The value cannot be turned into LDAP values; the message says why."""


def to_ldap_values(field_type: str, value: object) -> list[bytes]:
    """``value`` as the attribute's values: [] deletes the attribute."""
    if value is None or value == "" or value == []:
        return []
    if field_type == "multiselect":
        if not isinstance(value, list):
            raise UnwritableValue("a multi-select value must be a list")
        return [_text(v) for v in value if v != ""]
    if field_type == "picture":
        if not isinstance(value, bytes):
            raise UnwritableValue("a picture must be image bytes")
        return [value]
    if isinstance(value, list):
        raise UnwritableValue("only a multi-select field has several values")
    return [_text(value)]


def _text(value: object) -> bytes:
    text = str(value)
    if "\x00" in text:
        raise UnwritableValue("the value contains a NUL character")
    return text.encode("utf-8")


def from_ldap_values(field_type: str, values: list[bytes]) -> object:
    """The profile value of raw attribute values (the inverse, for what the person saw)."""
    if field_type == "multiselect":
        return [v.decode("utf-8", errors="replace") for v in values]
    if field_type == "picture":
        return values[0] if values else None
    return values[0].decode("utf-8", errors="replace") if values else ""


def picture_for_attribute(data: bytes, attribute: str) -> bytes:
    """A JPEG of ``data`` no larger than the attribute allows, shrinking until it fits."""
    limit = PICTURE_LIMITS.get(attribute.lower(), DEFAULT_PICTURE_LIMIT)
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            picture = image.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise UnwritableValue("the file is not an image that can be read") from exc
    side = min(max(picture.size), 1024)
    quality = 85
    while True:
        candidate = picture.copy()
        candidate.thumbnail((side, side))
        out = io.BytesIO()
        candidate.save(out, "JPEG", quality=quality, optimize=True)
        if out.tell() <= limit:
            return out.getvalue()
        if quality > 60:
            quality -= 10
        elif side > 48:
            side = int(side * 0.75)
        else:
            raise UnwritableValue(f"the picture cannot be made small enough for {attribute}")


def audit_text(field_type: str, values: list[bytes]) -> str:
    """How a value appears in the audit log: pictures by hash, text as text."""
    if field_type == "picture":
        return "; ".join(f"sha256:{hashlib.sha256(v).hexdigest()}" for v in values)
    return "; ".join(v.decode("utf-8", errors="replace") for v in values)
