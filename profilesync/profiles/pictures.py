"""Profile pictures in Django's storage, named by their content.

Content addressing makes a sync idempotent (the same photo is never written
twice), lets several nodes share one bucket without coordination, and means a
rolled-back sync leaves at worst an unreferenced file, never a wrong one.
"""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

_SIGNATURES = (
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"GIF8", "gif", "image/gif"),
    (b"RIFF", "webp", "image/webp"),
)


def sniff_image(data: bytes) -> tuple[str, str]:
    """(extension, content type) from the leading bytes; ``bin`` when unknown."""
    for magic, extension, content_type in _SIGNATURES:
        if data.startswith(magic):
            return extension, content_type
    return "bin", "application/octet-stream"


def picture_name(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    extension, _ = sniff_image(data)
    return f"pictures/{digest[:2]}/{digest}.{extension}"


def store_picture(data: bytes) -> str:
    """Save ``data`` unless an identical picture is stored; return its storage name."""
    name = picture_name(data)
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # another node wrote it between exists() and save()
            default_storage.delete(saved)
    return name


def content_type_for(name: str) -> str:
    extension = name.rsplit(".", 1)[-1]
    for _, ext, content_type in _SIGNATURES:
        if ext == extension:
            return content_type
    return "application/octet-stream"


def picture_bytes(name: str) -> bytes | None:
    """The stored picture's bytes, or None when there is none under ``name``."""
    if not name or not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as handle:
        return handle.read()
