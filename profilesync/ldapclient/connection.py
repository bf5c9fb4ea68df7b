"""Open and bind a python-ldap connection with the project's safe defaults."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import ldap
from ldap.ldapobject import LDAPObject

from .errors import (
    BindFailed,
    DirectoryError,
    DirectoryUnreachable,
    TLSFailure,
    describe_ldap_error,
)

log = logging.getLogger(__name__)

# The type of an open, bound connection, for code outside ldapclient/ that passes
# one along without importing python-ldap itself.
Connection = LDAPObject

SUPPORTED_SCHEMES = ("ldap", "ldaps", "ldapi")

_ENCRYPT_HINT = ("use an ldaps:// URL or turn on StartTLS, with the server's CA certificate "
                 "in the CA file setting")


@dataclass(frozen=True)
class ConnectionSettings:
    """Everything needed to reach and bind to one directory.

    ``urls`` are tried in order until one answers, which is how a directory with
    several replicas is configured. ``bind_password`` is plain text here only
    for the life of a connection; it is never part of ``repr``.
    """

    urls: tuple[str, ...]
    bind_dn: str = ""
    bind_password: str = field(default="", repr=False)
    start_tls: bool = False
    ca_file: str = ""
    connect_timeout: float = 5.0
    operation_timeout: float = 60.0


def validate_url(url: str) -> str | None:
    """Return why ``url`` is not a usable LDAP URL, or None when it is."""
    parts = urlsplit(url)
    if parts.scheme not in SUPPORTED_SCHEMES:
        return f"{url!r} must start with ldap://, ldaps:// or ldapi://"
    if parts.scheme != "ldapi" and not parts.hostname:
        return f"{url!r} has no host name"
    return None


def _set_tls_options(conn: LDAPObject, settings: ConnectionSettings) -> None:
    conn.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_DEMAND)
    if settings.ca_file:
        conn.set_option(ldap.OPT_X_TLS_CACERTFILE, settings.ca_file)
    # Options set on a connection only take effect in a new TLS context.
    conn.set_option(ldap.OPT_X_TLS_NEWCTX, 0)


def _open_one(url: str, settings: ConnectionSettings) -> LDAPObject:
    conn = ldap.initialize(url, bytes_mode=False)
    conn.set_option(ldap.OPT_PROTOCOL_VERSION, 3)
    conn.set_option(ldap.OPT_REFERRALS, 0)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, settings.connect_timeout)
    conn.set_option(ldap.OPT_TIMEOUT, settings.operation_timeout)
    if url.startswith("ldaps:") or settings.start_tls:
        _set_tls_options(conn, settings)
    if settings.start_tls and not url.startswith("ldaps:"):
        try:
            conn.start_tls_s()
        except ldap.SERVER_DOWN as exc:
            raise DirectoryUnreachable(f"no LDAP server answered at {url}") from exc
        except (ldap.PROTOCOL_ERROR, ldap.UNAVAILABLE, ldap.UNWILLING_TO_PERFORM) as exc:
            raise TLSFailure(
                f"{url} does not offer StartTLS: {describe_ldap_error(exc)}", setting="start_tls",
                hint="use ldaps:// if the server offers it, or turn StartTLS off") from exc
        except ldap.LDAPError as exc:
            raise TLSFailure(f"StartTLS with {url} failed: {describe_ldap_error(exc)}") from exc
    return conn


def _port_accepts(url: str, timeout: float) -> bool:
    """Whether the URL's host accepts TCP connections on its port (no LDAP spoken)."""
    parts = urlsplit(url)
    port = parts.port or (636 if parts.scheme == "ldaps" else 389)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def open_connection(settings: ConnectionSettings) -> LDAPObject:
    """Connect to the first URL that answers and bind; raise a typed error otherwise."""
    if not settings.urls:
        raise DirectoryUnreachable("no URL configured", hint="set at least one ldap:// URL")
    last_error: DirectoryError | None = None
    for url in settings.urls:
        try:
            conn = _open_one(url, settings)
            conn.simple_bind_s(settings.bind_dn, settings.bind_password)
            return conn
        except ldap.INVALID_CREDENTIALS as exc:
            raise BindFailed(f"{url} refused the bind as {settings.bind_dn!r}") from exc
        except (ldap.SERVER_DOWN, ldap.TIMEOUT) as exc:
            text = describe_ldap_error(exc)
            if "certificate" in text.lower() or "tls" in text.lower():
                last_error = TLSFailure(f"TLS with {url} failed: {text}")
            elif url.startswith("ldaps:") and _port_accepts(url, settings.connect_timeout):
                # libldap with GnuTLS reports an untrusted certificate as "Can't contact
                # LDAP server"; a port that accepts connections says it was the handshake.
                last_error = TLSFailure(
                    f"{url} answered, but the TLS handshake failed: its certificate is not "
                    "signed by a CA in the CA file, or does not name the URL's host")
            else:
                last_error = DirectoryUnreachable(f"no LDAP server answered at {url}: {text}")
            log.warning("directory url unreachable url=%s reason=%s", url, text)
        except (ldap.CONFIDENTIALITY_REQUIRED, ldap.STRONG_AUTH_REQUIRED) as exc:
            # Active Directory (LDAP signing enforced) and Samba by default answer a
            # simple bind over plain LDAP with strongerAuthRequired; the password was
            # not even checked, so the hint must not send anyone to it.
            raise BindFailed(
                f"{url} refuses a simple bind over an unencrypted connection",
                setting="url",
                hint=_ENCRYPT_HINT,
            ) from exc
        except DirectoryError as exc:
            last_error = exc
        except ldap.LDAPError as exc:
            raise BindFailed(f"bind to {url} failed: {describe_ldap_error(exc)}") from exc
    assert last_error is not None
    raise last_error


@contextmanager
def connected(settings: ConnectionSettings) -> Iterator[LDAPObject]:
    """A bound connection that is always unbound afterwards."""
    conn = open_connection(settings)
    try:
        yield conn
    finally:
        close(conn)


def connected_url(conn: Connection) -> str:
    """The URL this connection reached (the first of the configured ones that answered)."""
    return conn.get_option(ldap.OPT_URI)


def close(conn: Connection) -> None:
    """Unbind, ignoring a server that is already gone."""
    try:
        conn.unbind_s()
    except ldap.LDAPError:
        pass
