"""Test a directory's saved connection settings step by step, as "Test connection" shows it.

Each step says what it did and, when it failed, the typed error's message and
what to check (its ``hint``), so the page, the CLI and the API can show the same
advice. Steps stop at the first failure: a search says nothing when the bind
failed. Nothing here ever holds the password in a message; the typed errors of
:mod:`profilesync.ldapclient.errors` never carry it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from profilesync.ldapclient.connection import close, connected_url, open_connection
from profilesync.ldapclient.errors import BaseDNNotFound, BindFailed, DirectoryError
from profilesync.ldapclient.search import allowed_page_size, paged_search, read_entry

from .models import Directory

# How many users the last step asks for: enough to show the filter matches
# people, few enough that a directory of millions answers at once.
SAMPLE_SIZE = 5


class Outcome(enum.StrEnum):
    PASSED = "passed"
    WARNING = "warning"  # worked, but probably not as intended (no users found)
    FAILED = "failed"


@dataclass(frozen=True)
class Step:
    title: str
    outcome: Outcome
    detail: str
    hint: str = ""
    setting: str = ""  # the setting most likely at fault, when the step failed

    @property
    def passed(self) -> bool:
        return self.outcome != Outcome.FAILED


def _failed(title: str, exc: DirectoryError) -> Step:
    return Step(title, Outcome.FAILED, exc.args[0] if exc.args else type(exc).__name__,
                hint=exc.hint, setting=exc.setting)


def check_connection(directory: Directory) -> list[Step]:
    """Connect, bind, read the base DN and the additional user DN, search a few users."""
    refusal = directory.sync_refusal()
    if refusal is not None:
        return [Step("Directory type", Outcome.FAILED, f"nothing to connect to: {refusal}",
                     setting="type")]
    settings = directory.connection_settings()
    try:
        conn = open_connection(settings)
    except BindFailed as exc:
        # Only raised once a server answered, so reaching it worked.
        return [Step("Connect", Outcome.PASSED, "a server answered"), _failed("Bind", exc)]
    except DirectoryError as exc:
        return [_failed("Connect", exc)]
    try:
        url = connected_url(conn)
        steps = [
            Step("Connect", Outcome.PASSED, f"connected to {url}"
                 + (" with StartTLS" if directory.start_tls and url.startswith("ldap:") else "")),
            Step("Bind", Outcome.PASSED,
                 f"bound as {settings.bind_dn}" if settings.bind_dn else "bound anonymously"),
        ]
        steps.extend(_search_steps(conn, directory))
        return steps
    finally:
        close(conn)


def _search_steps(conn, directory: Directory) -> list[Step]:
    steps: list[Step] = []
    bases = [("Base DN", directory.base_dn, "base_dn")]
    if directory.user_dn:
        bases.append(("Additional user DN", directory.search_base, "user_dn"))
    for title, dn, setting in bases:
        try:
            found = read_entry(conn, dn, ["objectClass"]) is not None
        except DirectoryError as exc:
            return [*steps, _failed(title, exc)]
        if not found:
            return [*steps, _failed(title, BaseDNNotFound(
                f"{dn!r} does not exist or the bind DN may not read it", setting=setting))]
        steps.append(Step(title, Outcome.PASSED, f"{dn} exists"))
    page_size = _page_size_step(conn, directory)
    if page_size is not None:
        steps.append(page_size)
        if not page_size.passed:
            return steps
    steps.append(_users_step(conn, directory))
    return steps


def probe_page_size(conn, directory: Directory) -> str:
    """Probe the page size the server allows, as a sync does; store it when smaller.

    Returns the directory's page-size note, or "" when the configured size is
    allowed. A smaller limit is kept at once, so the first import does not meet
    the refusal. Raises :class:`DirectoryError` when no page size is allowed.
    """
    allowed = allowed_page_size(conn, directory.search_base, directory.page_size)
    if allowed >= directory.page_size:
        return ""
    directory.page_size = directory.server_page_size_limit = allowed
    if directory.pk is not None:
        Directory.objects.filter(pk=directory.pk).update(page_size=allowed,
                                                         server_page_size_limit=allowed)
    return directory.page_size_note


def _page_size_step(conn, directory: Directory) -> Step | None:
    """The "Page size" step: None when the configured page size is allowed."""
    title = "Page size"
    try:
        note = probe_page_size(conn, directory)
    except DirectoryError as exc:
        return _failed(title, exc)
    if not note:
        return None
    return Step(title, Outcome.WARNING, note,
                hint="raise the service account's paged-results limit on the server "
                "(OpenLDAP: olcLimits size.pr) if you want larger pages", setting="page_size")


def _users_step(conn, directory: Directory) -> Step:
    title = "Search users"
    username_attribute = directory.effective_username_attribute
    filterstr = directory.effective_user_filter
    try:
        first_page = next(iter(paged_search(conn, directory.search_base, filterstr,
                                            [username_attribute], page_size=SAMPLE_SIZE)), [])
    except DirectoryError as exc:
        return _failed(title, exc)
    if not first_page:
        return Step(title, Outcome.WARNING,
                    f"no entry under {directory.search_base} matches {filterstr}",
                    hint="check the user object filter and the additional user DN",
                    setting="user_filter")
    names = []
    for _dn, attributes in first_page:
        values = {k.lower(): v for k, v in attributes.items()}.get(username_attribute.lower())
        if values:
            names.append(values[0].decode("utf-8", "replace"))
    more = " (and maybe more)" if len(first_page) >= SAMPLE_SIZE else ""
    return Step(title, Outcome.PASSED,
                f"found {len(first_page)} users{more} with {filterstr}: {', '.join(names)}")
