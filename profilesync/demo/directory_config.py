"""The demo directories' configuration: "demo" on the private slapd, "demo-ad" on the Samba DC.

Two names, so switching the demo between OpenLDAP and Active Directory never
points one directory's profiles (keyed by entryUUID or objectGUID) at the other
server, which would look like everyone left.
"""

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
    return _ensure(DEMO_DIRECTORY, {
        "type": "ldap",
        "vendor": "openldap",
        "bind_dn": BIND_DN,
        "bind_password": bind_password,
        "base_dn": SUFFIX,
        "user_dn": "ou=people",
    }, current={"urls": [url]})


AD_DEMO_DIRECTORY = "demo-ad"


def ensure_demo_ad_directory(url: str, ca_file: str, base_dn: str, bind_dn: str,
                             bind_password: str) -> tuple[Directory, str]:
    """Like :func:`ensure_demo_directory`, for the demo's Samba DC over LDAPS with its CA.

    The DC's address and certificate may change between starts (it takes the
    first free loopback address), so the URL, CA file and password are kept current.
    """
    return _ensure(AD_DEMO_DIRECTORY, {
        "type": "ldap",
        "vendor": "ad",
        "bind_dn": bind_dn,
        "base_dn": base_dn,
        "user_dn": "OU=people",
    }, current={"urls": [url], "ca_file": ca_file, "bind_password": bind_password})


def _ensure(name: str, options: dict[str, object],
            current: dict[str, object]) -> tuple[Directory, str]:
    """Create ``name`` from ``options`` and ``current`` if missing; else set what differs
    from ``current`` (and a bind password the current secret key cannot read)."""
    directory = Directory.objects.filter(name=name).first()
    if directory is None:
        return create_directory(name, {**options, **current}), "created"
    changes = {setting: value for setting, value in current.items()
               if setting != "bind_password" and getattr(directory, setting) != value}
    try:
        stored_password: str | None = decrypt_secret(directory.bind_password_encrypted)
    except SecretUnreadable:
        stored_password = None
    wanted_password = current.get("bind_password", options.get("bind_password"))
    if stored_password is None or ("bind_password" in current
                                   and stored_password != wanted_password):
        changes["bind_password"] = wanted_password
    if not changes:
        return directory, "unchanged"
    return update_directory(directory, changes), "updated"
