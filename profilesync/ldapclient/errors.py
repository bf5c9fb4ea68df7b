"""Typed LDAP failures, each carrying what an administrator should check.

python-ldap raises one exception class per result code with a dict whose
``info`` may echo parts of the request; we never pass that text on unfiltered,
so no bind password can leak into a log or report.
"""

from __future__ import annotations


class DirectoryError(Exception):
    """Base class: something about talking to a directory went wrong.

    ``setting`` names the configuration value most likely at fault, and ``hint``
    says what to check, so every edge (CLI, web, API) can show the same advice.
    """

    setting: str = "url"
    hint: str = ""

    def __init__(self, message: str, *, setting: str | None = None, hint: str | None = None):
        super().__init__(message)
        if setting is not None:
            self.setting = setting
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class DirectoryUnreachable(DirectoryError):
    """No server at any configured URL answered (network, port, firewall, TLS handshake)."""

    setting = "url"
    hint = "check the URL, that the server runs, and the network between us"


class TLSFailure(DirectoryError):
    """StartTLS or LDAPS could not be negotiated or the certificate was not trusted."""

    setting = "ca_file"
    hint = "check the CA file and that the server's certificate matches its host name"


class BindFailed(DirectoryError):
    """The server refused the bind DN and password."""

    setting = "bind_password"
    hint = "check the bind DN and bind password"


class BaseDNNotFound(DirectoryError):
    """The search base (base DN plus additional user DN) does not exist."""

    setting = "base_dn"
    hint = "check the base DN and additional user DN; look them up with ldapsearch"


class InvalidFilter(DirectoryError):
    """The server rejected the search filter."""

    setting = "user_filter"
    hint = "check the user object filter syntax, e.g. (objectClass=inetOrgPerson)"


class SearchFailed(DirectoryError):
    """A search failed for a reason the other classes do not cover."""

    setting = "url"
    hint = "check the server's log"


def describe_ldap_error(exc: Exception) -> str:
    """A short description of a python-ldap error: its ``desc`` and ``info``.

    Servers put diagnostics in ``info`` (never the password we sent), so this
    is safe to log and show, unlike ``repr(exc)`` of arbitrary wrappers.
    """
    details = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}
    desc = details.get("desc", type(exc).__name__)
    info = details.get("info", "")
    return f"{desc}: {info}" if info else str(desc)


# -- added for issue 12: page sizes, and the one family every sync failure belongs to --

class PageSizeRefused(SearchFailed):
    """The server refused the paged search's page size for this account.

    OpenLDAP answers a page larger than ``olcLimits ... size.pr`` with
    "Administrative limit exceeded: illegal pagedResults page size"; the
    search layer then finds the largest size the server allows
    (:func:`profilesync.ldapclient.search.allowed_page_size`), so this error
    only reaches a person when not even one entry per page is allowed.
    """

    setting = "page_size"
    hint = ("lower the directory's page size, or raise the service account's paged-results "
            "limit on the server (OpenLDAP: olcLimits size.pr)")

    def __init__(self, message: str, *, page_size: int, setting: str | None = None,
                 hint: str | None = None):
        super().__init__(message, setting=setting, hint=hint)
        self.page_size = page_size


class UnexpectedSyncFailure(DirectoryError):
    """A failure none of the typed errors describes (a bug, or a server answer never seen).

    The run records it in the directory's part it happened in and goes on with
    the others; the message names the exception's type and, for python-ldap
    errors, the server's diagnostic (never the request, so never a password).
    """

    setting = ""
    hint = "the application log has the details; please report it"


# -- write-back: every answer to a modify has one of four outcomes ------------------------
# (written, conflict, pending, refused; docs/architecture.md has the table). The classes
# below are what ``ldapclient.modify`` raises; ``transient`` says "retry later".


class DirectoryBusy(DirectoryError):
    """The server answered but could not do it now (busy, unavailable, limits, OTHER)."""

    setting = "url"
    hint = "the write is kept and retried; if it stays pending, check the server's log"
    transient = True


class WriteRefused(DirectoryError):
    """The directory refused the write for good (access, schema, constraint, name)."""

    setting = "bind_dn"
    hint = "ask the directory's administrator to allow the service account to write it"
    transient = False


class WriteReferred(WriteRefused):
    """A read-only replica refers writes to another server (its provider)."""

    setting = "url"
    hint = "add the provider's URL to the directory (first), so writes go to it"

    def __init__(self, message: str, *, referral_urls: tuple[str, ...] = (), **kwargs):
        super().__init__(message, **kwargs)
        self.referral_urls = referral_urls


class WriteConflict(DirectoryError):
    """The entry no longer holds the values the person saw; nothing was written.

    ``current`` is what the attribute holds now, so both values can be shown.
    """

    setting = "none"
    hint = ""
    transient = False

    def __init__(self, attribute: str, current: list[bytes]):
        self.attribute = attribute
        self.current = current
        super().__init__(f"{attribute} was changed in the directory meanwhile")
