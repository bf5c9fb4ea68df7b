"""The "Save and test connection" checks: can we write this attribute of this user?

Each step says what it checked and, when it fails, the cause and what to
check, in the order an administrator would look (the seed product's list:
connection, base DN and additional user DN, the user belongs to the
directory, the attribute is in the schema; then the write itself, done so
that the entry keeps its value).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.contrib.auth import get_user_model

from profilesync.directories.connection_test import probe_page_size
from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import open_connection
from profilesync.ldapclient.errors import DirectoryError
from profilesync.ldapclient.modify import read_values, supports_assertion
from profilesync.ldapclient.rootdse import read_root_dse
from profilesync.ldapclient.schema import check_attribute, read_subschema
from profilesync.ldapclient.write_check import (
    connection_uri,
    rewrite_own_values,
    search_base_problem,
)
from profilesync.profiles.models import Profile
from profilesync.sync.one_person import find_user_entry


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict:
        return asdict(self)


@dataclass
class PanelResult:
    steps: list[Step]

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def as_json(self) -> dict:
        return {"ok": self.ok, "steps": [s.as_json() for s in self.steps]}


def _not_this_directory(directory: Directory, username: str) -> str | None:
    """Why ``username`` cannot be tested in ``directory`` before asking it, or None."""
    elsewhere = (Profile.objects.filter(username=username).exclude(directory=directory)
                 .select_related("directory").first())
    local = get_user_model().objects.filter(username=username, profile__isnull=True).first()
    if local is not None and local.has_usable_password() and elsewhere is None:
        return (f"{username!r} is a local account, not a user of a directory; local users "
                "(like admin) cannot be tested: enter the user name of a person in "
                f"{directory.name}")
    if elsewhere is not None and not Profile.objects.filter(
            username=username, directory=directory).exists():
        return (f"{username!r} belongs to the directory {elsewhere.directory.name!r}, not "
                f"{directory.name!r}: test that directory, or a user of this one")
    return None


def run_test_panel(directory: Directory, username: str, attribute: str) -> PanelResult:
    steps: list[Step] = []
    try:
        conn = open_connection(directory.connection_settings())
    except DirectoryError as exc:
        return PanelResult([Step("connection and bind", False, str(exc))])
    try:
        bind = directory.bind_dn or "anonymous"
        steps.append(Step("connection and bind", True,
                          f"connected to {connection_uri(conn)} as {bind}"))
        if not _check_search_base(conn, directory, steps):
            return PanelResult(steps)
        dn = _check_user(conn, directory, username, steps)
        if dn is None:
            return PanelResult(steps)
        object_classes = [v.decode() for v in read_values(conn, dn, "objectClass")]
        check = check_attribute(read_subschema(conn, dn), attribute, object_classes)
        steps.append(Step("attribute in the schema", check.exists and check.allowed,
                          f"{check.name}: {check.reason}" if check.exists else check.reason))
        if not (check.exists and check.allowed):
            return PanelResult(steps)
        steps.append(_check_write(conn, dn, check.name, equality=check.has_equality_rule))
        return PanelResult(steps)
    except DirectoryError as exc:
        steps.append(Step("directory", False, str(exc)))
        return PanelResult(steps)
    finally:
        conn.unbind_s()


def _check_search_base(conn, directory: Directory, steps: list[Step]) -> bool:
    base = directory.search_base
    problem = search_base_problem(conn, base)
    if problem:
        steps.append(Step("base DN and additional user DN", False, problem))
        return False
    # The same probe as a sync: a page size the server refuses is found and kept here.
    note = probe_page_size(conn, directory)
    steps.append(Step("base DN and additional user DN", True,
                      f"{base} exists and can be searched" + (f"; {note}" if note else "")))
    return True


def _check_user(conn, directory: Directory, username: str, steps: list[Step]):
    reason = _not_this_directory(directory, username)
    if reason:
        steps.append(Step("user in this directory", False, reason))
        return None
    entries = find_user_entry(conn, directory, username)
    if len(entries) != 1:
        detail = (f"no user {username!r} under {directory.search_base} matching "
                  f"{directory.effective_user_filter}; check the user name, the user filter "
                  "and the additional user DN") if not entries else (
                  f"several entries have the user name {username!r}; the user name attribute "
                  "must be unique")
        steps.append(Step("user in this directory", False, detail))
        return None
    steps.append(Step("user in this directory", True, entries[0][0]))
    return entries[0][0]


def _check_write(conn, dn: str, attribute: str, *, equality: bool) -> Step:
    """Write the attribute back with exactly the values it holds: the entry stays as it was.

    An absent attribute is "replaced" with no values, asserting it is absent (RFC 4511
    defines that as a no-op), yet the server still checks the service account's rights.
    When the values cannot be read whole, the write is skipped and the step says why.
    """
    result = rewrite_own_values(conn, dn, attribute, assertion=supports_assertion(
        read_root_dse(conn)), equality=equality)
    detail = result.detail
    if "insufficient access" in detail:
        detail += "; grant it write access in the directory's ACLs"
    return Step("write access", result.ok, detail)
