"""Directory vendor quirks: Active Directory's objectGUID and userAccountControl."""

from __future__ import annotations

import uuid

import pytest

from profilesync.directories.vendors import ACTIVE_DIRECTORY, OPENLDAP, VENDORS, UserAccountControl

GUID = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")


def test_object_guid_is_read_in_microsofts_byte_order():
    """An AD user's ID is the GUID AD tools show, not the raw bytes read as big-endian."""
    assert ACTIVE_DIRECTORY.decode_unique_id(GUID.bytes_le) == str(GUID)
    assert ACTIVE_DIRECTORY.decode_unique_id(GUID.bytes_le) != str(uuid.UUID(bytes=GUID.bytes_le))


def test_unexpected_guid_length_is_kept_as_hex():
    """A GUID that is not 16 bytes still gives a stable ID rather than failing."""
    assert ACTIVE_DIRECTORY.decode_unique_id(b"\x01\x02\x03") == "010203"


def test_entry_uuid_is_read_as_text_in_lower_case():
    """OpenLDAP's entryUUID is the same ID whatever case the server answers in."""
    assert OPENLDAP.decode_unique_id(b"3F2504E0-4F89-11D3-9A0C-0305E82C3301") == str(GUID)


@pytest.mark.parametrize(("value", "disabled"), [
    (b"512", False),  # normal account
    (b"514", True),  # normal account, disabled
    (b"544", False),  # normal, password not required
    (b"546", True),  # the same, disabled
    (b"66050", True),  # disabled, password never expires
    (b"66048", False),
])
def test_ad_accounts_with_the_disabled_bit_are_inactive(value, disabled):
    """A person disabled in AD shows as inactive; any other flag combination is active."""
    assert ACTIVE_DIRECTORY.is_disabled({"useraccountcontrol": [value]}) is disabled


@pytest.mark.parametrize("attributes", [{}, {"useraccountcontrol": []},
                                        {"useraccountcontrol": [b"not a number"]}])
def test_missing_or_unreadable_account_control_means_active(attributes):
    """Without a readable userAccountControl nobody is deactivated by guesswork."""
    assert ACTIVE_DIRECTORY.is_disabled(attributes) is False


def test_openldap_never_reports_disabled_accounts():
    """OpenLDAP has no disabled flag; even an AD-looking attribute is ignored there."""
    assert OPENLDAP.is_disabled({"useraccountcontrol": [b"514"]}) is False


def test_account_disabled_flag_is_bit_two():
    """The flag value matches MS-ADTS (0x2)."""
    assert UserAccountControl.ACCOUNTDISABLE == 2
    assert UserAccountControl.NORMAL_ACCOUNT | UserAccountControl.ACCOUNTDISABLE == 514


@pytest.mark.parametrize(("key", "unique_id", "timestamp", "picture", "username"), [
    ("openldap", "entryUUID", "modifyTimestamp", "jpegPhoto", "uid"),
    ("ad", "objectGUID", "whenChanged", "thumbnailPhoto", "sAMAccountName"),
    ("generic", "entryUUID", "modifyTimestamp", "jpegPhoto", "uid"),
])
def test_vendor_defaults(key, unique_id, timestamp, picture, username):
    """Each vendor comes with the attribute names its servers use."""
    vendor = VENDORS[key]
    assert (vendor.unique_id_attribute, vendor.modify_timestamp_attribute,
            vendor.picture_attribute, vendor.username_attribute) == (
        unique_id, timestamp, picture, username)


def test_ad_feeds_department_and_picture_from_its_own_attributes():
    """On AD, the default department and picture fields read department and thumbnailPhoto."""
    assert ACTIVE_DIRECTORY.field_attributes == {"department": "department",
                                                 "picture": "thumbnailPhoto"}
