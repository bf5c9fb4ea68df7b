"""Encryption at rest for bind passwords.

The key is derived from ``SECRET_KEY`` with HKDF, so a stolen database alone
does not reveal passwords, and no second secret needs managing. Rotating the
secret key means re-entering bind passwords; ``decrypt_secret`` says so.
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from profilesync.ldapclient.errors import DirectoryError


class SecretUnreadable(DirectoryError):
    """A stored secret cannot be decrypted with the current secret key."""

    setting = "bind_password"
    hint = ""


def _fernet() -> Fernet:
    kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"profilesync bind password v1")
    key = kdf.derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(plain: str) -> str:
    if not plain:
        return ""
    return _fernet().encrypt(plain.encode()).decode("ascii")


def decrypt_secret(token: str) -> str:
    if not token:
        return ""
    try:
        return _fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise SecretUnreadable(
            "the stored bind password cannot be decrypted (the secret key changed?); "
            "enter it again (Directories page, or "
            "`profilesync directory set NAME --bind-password-file FILE`)"
        ) from exc
