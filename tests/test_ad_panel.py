"""The "Save and test connection" panel against Active Directory (a real Samba DC).

Its schema step must read AD's own subschema (``CN=Aggregate,CN=Schema,...``,
named by the root DSE's ``subschemaSubentry``) and its write step must leave
the entry as it was.
"""

from __future__ import annotations

import json

import pytest

from profilesync.writeback.test_panel import run_test_panel

pytestmark = pytest.mark.django_db

STEPS = ["connection and bind", "base DN and additional user DN", "user in this directory",
         "attribute in the schema", "write access"]


@pytest.fixture
def ann(ad_ou, ad_directory, sync_directory):
    """Ann in AD with a phone number and a photo, synced; returns (directory, DN)."""
    dn = ad_ou.add_user("ann", telephoneNumber="+49 30 1111", thumbnailPhoto=b"\xff\xd8not-a-jpeg")
    directory = ad_directory(ad_ou)
    sync_directory(directory)
    return directory, dn


@pytest.mark.parametrize("attribute", ["telephoneNumber", "title", "thumbnailPhoto"])
def test_every_check_passes_and_the_entry_keeps_its_value(ann, ad_ou, attribute):
    """For attributes of AD users, all five checks pass; the values are left untouched
    (title: an absent attribute stays absent)."""
    directory, dn = ann
    before = ad_ou.read(dn, attribute)

    result = run_test_panel(directory, "ann", attribute)

    assert result.ok, result.as_json()
    assert [s.name for s in result.steps] == STEPS
    assert ad_ou.read(dn, attribute) == before


def test_attribute_missing_from_ads_schema_is_flagged(ann):
    """An attribute AD's schema does not define fails the schema step, and nothing is written."""
    directory, _ = ann

    result = run_test_panel(directory, "ann", "favouriteColour")

    assert not result.ok
    last = result.steps[-1]
    assert (last.name, last.ok) == ("attribute in the schema", False)
    assert "schema has no attribute 'favouriteColour'" in last.detail


def test_attribute_the_user_class_does_not_allow_is_flagged(ann):
    """An attribute AD defines but a user may not have (an OU's ``gPLink``) fails the schema step."""
    directory, _ = ann

    result = run_test_panel(directory, "ann", "gPLink")

    last = result.steps[-1]
    assert (last.name, last.ok) == ("attribute in the schema", False), result.as_json()
    assert "not allowed by the entry's object classes" in last.detail


def test_write_test_command_reports_every_step_as_json(ann, cli):
    """`profilesync directory test-write --json` against AD: every step ok, exit code 0."""
    directory, _ = ann

    code, out, _ = cli("directory", "test-write", directory.name, "--user", "ann",
                       "--attribute", "telephoneNumber", "--json")

    report = json.loads(out)
    assert code == 0 and report["ok"], report
    assert [s["name"] for s in report["steps"]] == STEPS
