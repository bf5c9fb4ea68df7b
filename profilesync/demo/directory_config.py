"""The "demo" directory configuration, pointing at the demo's private slapd."""

from __future__ import annotations

from profilesync.directories.models import Directory
from profilesync.directories.secrets import SecretUnreadable, decrypt_secret
from profilesync.directories.services import create_directory, update_directory

from .directory_server import SUFFIX

DEMO_DIRECTORY = "demo"
BIND_DN = f"cn=admin,{SUFFIX}"


def ensure_demo_directory(url: str, bind_password: str) -> tuple[Directory, str]:
    """Create the directory if missing, else point it at ``url``; say which happened.

    Only the URL (and a bind password the current secret key cannot read) is
    changed on an existing directory; other settings an administrator changed
    stay as they are.
    """
    directory = Directory.objects.filter(name=DEMO_DIRECTORY).first()
    if directory is None:
        directory = create_directory(DEMO_DIRECTORY, {
            "type": "ldap",
            "vendor": "openldap",
            "urls": [url],
            "bind_dn": BIND_DN,
            "bind_password": bind_password,
            "base_dn": SUFFIX,
            "user_dn": "ou=people",
        })
        return directory, "created"
    changes: dict[str, object] = {}
    if directory.urls != [url]:
        changes["urls"] = [url]
    try:
        decrypt_secret(directory.bind_password_encrypted)
    except SecretUnreadable:
        changes["bind_password"] = bind_password
    if not changes:
        return directory, "unchanged"
    return update_directory(directory, changes), "updated"
