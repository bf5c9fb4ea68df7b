"""Attributes that hold secrets: no profile field reads or writes them, for anyone.

A field's LDAP attribute decides what every person sees (through the profile page,
the search and the API) and, with write-back, what every person may write. Pointed
at ``userPassword``, a field would show everyone's password hash; so these names are
refused wherever a field's attribute or a per-directory override is set (the
service layer, hence the CLI and the web pages alike), with the attribute and the
reason in the message.

Known secrets are data, below. A directory's own schema can add more
(``ldapclient.schema_secrets``: derived from a password attribute, the authPassword
syntax, Active Directory's confidential flag); those are asked for when a form saves
a field, and remembered for an hour per directory. A directory that cannot be asked
leaves the known list in force.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import replace

from django.core.cache import cache

from profilesync.errors import InvalidSetting
from profilesync.ldapclient.connection import connected
from profilesync.ldapclient.errors import DirectoryError
from profilesync.ldapclient.schema_secrets import secret_attributes_in_schema

from .secrets import SecretUnreadable

log = logging.getLogger(__name__)

# lower-case name -> why it is a secret.
SECRET_ATTRIBUTES: dict[str, str] = {
    "userpassword": "it holds the person's password or its hash (RFC 4519)",
    "authpassword": "it holds the person's password hash (RFC 3112)",
    "unicodepwd": "it is Active Directory's password attribute",
    "dbcspwd": "it is Active Directory's LAN Manager password hash",
    "ntpwdhistory": "it is Active Directory's history of password hashes",
    "lmpwdhistory": "it is Active Directory's history of password hashes",
    "supplementalcredentials": "it holds Active Directory's Kerberos keys and other credentials",
    "sambantpassword": "it holds the person's NT password hash (Samba)",
    "sambalmpassword": "it holds the person's LAN Manager password hash (Samba)",
    "sambapasswordhistory": "it holds the person's password hash history (Samba)",
    "krbprincipalkey": "it holds the person's Kerberos keys",
    "userpkcs12": "it holds the person's private key (PKCS #12)",
    "pwdhistory": "it holds the person's old password hashes (password policy)",
    "ms-mcs-admpwd": "it holds a local administrator password (LAPS)",
    "mslaps-password": "it holds a local administrator password (Windows LAPS)",
    "mslaps-encryptedpassword": "it holds a local administrator password (Windows LAPS)",
}

SCHEMA_CACHE_SECONDS = 3600
# Asking a directory for its schema while a form is saved: never longer than this.
SCHEMA_TIMEOUT_SECONDS = 5.0


def base_name(attribute: str) -> str:
    """``userPassword;binary`` -> ``userpassword``: options do not make another attribute."""
    return attribute.split(";", 1)[0].strip().lower()


def secret_reason(attribute: str, schema_secrets: dict[str, str] | None = None) -> str:
    """Why ``attribute`` holds a secret; "" when it does not (as far as is known)."""
    name = base_name(attribute)
    return SECRET_ATTRIBUTES.get(name) or (schema_secrets or {}).get(name, "")


def refuse_secret_attribute(attribute: str, setting: str, directories: Iterable = ()) -> None:
    """Raise :class:`InvalidSetting` naming ``attribute`` and why, when it holds secrets.

    ``directories``: also ask each one's schema (cached); a directory that cannot be
    asked adds nothing.
    """
    if not attribute or not attribute.strip():
        return
    reason = secret_reason(attribute)
    where = ""
    if not reason:
        for directory in directories:
            reason = secret_reason(attribute, schema_secret_attributes(directory))
            if reason:
                where = f" in {directory.name}"
                break
    if reason:
        raise InvalidSetting(
            setting, f"{attribute.strip()}{where} cannot feed a profile field: {reason}. "
            "Fields never read or write attributes that hold secrets; choose another attribute.")


def schema_secret_attributes(directory) -> dict[str, str]:
    """The secrets ``directory``'s schema adds to the known ones (cached; {} if unknown)."""
    urls = hashlib.sha256("\n".join(directory.urls).encode()).hexdigest()[:16]
    key = f"profilesync:schema-secrets:{directory.pk}:{urls}"
    found = cache.get(key)
    if found is not None:
        return found
    if directory.sync_refusal() is not None:
        return {}
    try:
        settings = directory.connection_settings()
        settings = replace(settings,
                           connect_timeout=min(settings.connect_timeout, SCHEMA_TIMEOUT_SECONDS),
                           operation_timeout=min(settings.operation_timeout,
                                                 SCHEMA_TIMEOUT_SECONDS))
        with connected(settings) as conn:
            found = secret_attributes_in_schema(conn, set(SECRET_ATTRIBUTES))
    except (DirectoryError, SecretUnreadable, OSError, ValueError) as exc:
        log.info("schema secrets unknown directory=%s error=%s", directory.name,
                 type(exc).__name__)
        return {}
    cache.set(key, found, SCHEMA_CACHE_SECONDS)
    return found
