"""More users than Active Directory hands out in one page (MaxPageSize, 1,000).

AD answers a paged search with at most MaxPageSize entries per page, whatever
page size the client asks for; a client that took the first page for the
whole answer would silently drop everyone after the 1,000th.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from profilesync.sync.models import RunStatus

pytestmark = pytest.mark.django_db

PEOPLE = 1_200


@pytest.fixture(scope="module")
def crowded_ou(make_ad_ou: Callable) -> object:
    """One OU with 1,200 enabled users, made once for this module.

    Adding them takes about 8 s (Samba commits each add on its own; an offline
    load into sam.ldb measured no faster). The OU is left in place: deleting it
    would take as long again, and the DC is thrown away with the session.
    """
    ou = make_ad_ou()
    ou.add_users(PEOPLE, prefix="crowd", title="Engineer")
    return ou


@pytest.mark.parametrize("page_size", [1000, 5000], ids=["default page size", "above MaxPageSize"])
def test_every_user_arrives_past_the_page_limit(crowded_ou, ad_directory, sync_directory, profiles,
                                                 page_size):
    """All 1,200 users get a profile, with the default page size and with one AD will not grant."""
    directory = ad_directory(crowded_ou, page_size=page_size)

    result = sync_directory(directory)

    assert (result.status, result.created, result.failed) == (RunStatus.SUCCEEDED, PEOPLE, 0)
    synced = profiles(directory)
    assert len(synced) == PEOPLE
    assert {"crowd0000", "crowd0999", "crowd1000", "crowd1199"} <= synced.keys()
