"""The demo's local administrator: Django superuser "admin", password kept in the data dir.

The password is generated once and written to ``DATA_DIR/admin-password``
(mode 0600) before the account is made, so every later start can print the
same login. A password changed since then is never reset: the demo only says
that the file no longer matches.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model

ADMIN_USERNAME = "admin"
PASSWORD_FILE = "admin-password"


@dataclass(frozen=True)
class AdminLogin:
    username: str
    password: str | None  # None: the account's password is not the one on file
    password_file: Path
    created: bool


def _read_or_create_password(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        os.chmod(path, 0o600)
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(12) + "\n")
    return path.read_text().strip()


def ensure_admin(data_dir: Path) -> AdminLogin:
    user_model = get_user_model()
    password_file = data_dir / PASSWORD_FILE
    user = user_model.objects.filter(username=ADMIN_USERNAME).first()
    if user is None:
        password = _read_or_create_password(password_file)
        user_model.objects.create_superuser(ADMIN_USERNAME, email="", password=password)
        return AdminLogin(ADMIN_USERNAME, password, password_file, created=True)
    if not password_file.exists():
        return AdminLogin(ADMIN_USERNAME, None, password_file, created=False)
    password = _read_or_create_password(password_file)
    known = password if user.check_password(password) else None
    return AdminLogin(ADMIN_USERNAME, known, password_file, created=False)
