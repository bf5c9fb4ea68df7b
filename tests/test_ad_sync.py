"""Full sync from Active Directory, against a real Samba AD domain controller.

What an administrator with an AD notices: people keep their profile when
renamed (identity is objectGUID), AD's attribute names feed the default fields,
and disabled accounts are deactivated and come back when enabled again.
"""

from __future__ import annotations

import uuid

import pytest

from profilesync.sync.models import RunStatus

pytestmark = pytest.mark.django_db


def test_full_sync_imports_ad_users_with_their_details(ad_ou, ad_directory, sync_directory, profiles):
    """Each AD user gets a profile keyed by objectGUID, with phone, title and department."""
    ann_dn = ad_ou.add_user("ann", displayName="Ann Archer", title="Engineer",
                            department="Research", telephoneNumber="+49 30 1234",
                            mail="ann@example.test")
    ad_ou.add_user("bob", displayName="Bob Baker", title="Accountant")
    directory = ad_directory(ad_ou)

    result = sync_directory(directory)

    assert (result.status, result.created, result.failed) == (RunStatus.SUCCEEDED, 2, 0), result.errors
    ann = profiles(directory)["ann"]
    guid = ad_ou.read(ann_dn, "objectGUID")["objectGUID"][0]
    assert ann.unique_id == str(uuid.UUID(bytes_le=guid))
    assert ann.active
    assert ann.values == {"display_name": "Ann Archer", "title": "Engineer",
                          "department": "Research", "phone": "+49 30 1234",
                          "mail": "ann@example.test"}
    assert profiles(directory)["bob"].values["title"] == "Accountant"
