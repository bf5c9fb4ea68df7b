"""Import or refresh one person, outside a run: at login and when the edit dialog opens.

The same plan and write stages as a run, fed with a one-entry page, so a
profile made at login is the profile the next sync would have made.
"""

from __future__ import annotations

from dataclasses import replace

from django.db import transaction

from profilesync.directories.models import Directory
from profilesync.ldapclient.connection import Connection, connected
from profilesync.ldapclient.escaping import and_filter, equality_filter, or_filter
from profilesync.ldapclient.range_retrieval import complete_page
from profilesync.ldapclient.search import Entry, paged_search
from profilesync.profiles.models import Profile

from .fieldmap import build_attribute_map
from .importer import ImportCounts, KnownProfiles, plan_page, write_plan
from .mapping import lower_keys


def find_user_entry(conn: Connection, directory: Directory, username: str, *,
                    for_login: bool = False) -> list[Entry]:
    """Entries of ``directory`` whose user name attribute equals ``username`` (escaped).

    ``for_login`` also matches the vendor's login aliases (AD: userPrincipalName),
    in the same search: a name that is one person's sAMAccountName and another's
    UPN then finds two entries, which the caller refuses as ambiguous.
    """
    attribute_map = build_attribute_map(directory)
    username_attribute = directory.effective_username_attribute
    names = [username_attribute]
    if for_login:
        names += [alias for alias in directory.vendor_info.login_alias_attributes
                  if alias.lower() != username_attribute.lower()]
    filterstr = and_filter(directory.effective_user_filter,
                           or_filter(*(equality_filter(name, username) for name in names)))
    found: list[Entry] = []
    ranged = directory.vendor_info.ranged_values  # AD: large multi-valued attributes in slices
    for page in paged_search(conn, directory.search_base, filterstr,
                             attribute_map.requested_attributes, page_size=2):
        found.extend(complete_page(conn, page) if ranged else page)
        if len(found) > 1:
            break
    return found


def store_entry(directory: Directory, entry: Entry) -> Profile | None:
    """Create or update the profile of ``entry``; None when the entry cannot be a profile."""
    attribute_map = build_attribute_map(directory)
    known = KnownProfiles(directory, sweep=False)
    counts = ImportCounts()
    with transaction.atomic():
        write_plan(plan_page([entry], directory, attribute_map, known, counts), directory)
    if counts.failed:
        return None
    unique_id_values = lower_keys(entry[1]).get(attribute_map.unique_id_attribute)
    unique_id = directory.vendor_info.decode_unique_id(unique_id_values[0])
    return Profile.objects.get(directory=directory, unique_id=unique_id)


def refresh_profile(profile: Profile, *, timeout: float | None = None) -> Profile:
    """Read the person's entry again and store what changed (one search by user name).

    Raises :class:`~profilesync.ldapclient.errors.DirectoryError` when the
    directory cannot be asked; the caller shows the stored values and says so.
    ``timeout`` caps the directory's own timeouts, for a person waiting on a page.
    """
    directory = profile.directory
    settings = directory.connection_settings()
    if timeout is not None:
        settings = replace(settings, connect_timeout=min(settings.connect_timeout, timeout),
                           operation_timeout=min(settings.operation_timeout, timeout))
    with connected(settings) as conn:
        entries = find_user_entry(conn, directory, profile.username)
    for entry in entries:
        refreshed = store_entry(directory, entry)
        if refreshed is not None and refreshed.pk == profile.pk:
            return refreshed
    profile.refresh_from_db()
    return profile
