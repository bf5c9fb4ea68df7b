"""Directory vendor quirks, kept as data in one place.

Everything that differs between OpenLDAP, Active Directory and a generic
RFC 4512 server is a value in :data:`VENDORS`, so sync and write-back code asks
``vendor.unique_id_attribute`` rather than testing for a vendor.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field


class UserAccountControl(enum.IntFlag):
    """Active Directory's ``userAccountControl`` bits (MS-ADTS 2.2.16)."""

    SCRIPT = 0x0001
    ACCOUNTDISABLE = 0x0002
    HOMEDIR_REQUIRED = 0x0008
    LOCKOUT = 0x0010
    PASSWD_NOTREQD = 0x0020
    PASSWD_CANT_CHANGE = 0x0040
    ENCRYPTED_TEXT_PWD_ALLOWED = 0x0080
    TEMP_DUPLICATE_ACCOUNT = 0x0100
    NORMAL_ACCOUNT = 0x0200
    INTERDOMAIN_TRUST_ACCOUNT = 0x0800
    WORKSTATION_TRUST_ACCOUNT = 0x1000
    SERVER_TRUST_ACCOUNT = 0x2000
    DONT_EXPIRE_PASSWORD = 0x10000
    MNS_LOGON_ACCOUNT = 0x20000
    SMARTCARD_REQUIRED = 0x40000
    TRUSTED_FOR_DELEGATION = 0x80000
    NOT_DELEGATED = 0x100000
    USE_DES_KEY_ONLY = 0x200000
    DONT_REQ_PREAUTH = 0x400000
    PASSWORD_EXPIRED = 0x800000
    TRUSTED_TO_AUTH_FOR_DELEGATION = 0x1000000
    PARTIAL_SECRETS_ACCOUNT = 0x4000000


def _text_id(raw: bytes) -> str:
    return raw.decode("ascii").lower()


def _guid_id(raw: bytes) -> str:
    """objectGUID is 16 bytes in Microsoft's mixed-endian layout."""
    return str(uuid.UUID(bytes_le=raw)) if len(raw) == 16 else raw.hex()


def _ad_account_disabled(attributes: dict[str, list[bytes]]) -> bool:
    values = attributes.get("useraccountcontrol")
    if not values:
        return False
    try:
        return bool(int(values[0]) & UserAccountControl.ACCOUNTDISABLE)
    except ValueError:
        return False


def _never_disabled(attributes: dict[str, list[bytes]]) -> bool:
    return False


@dataclass(frozen=True)
class Vendor:
    """What one kind of directory server calls things and how it behaves."""

    key: str
    label: str
    unique_id_attribute: str
    modify_timestamp_attribute: str
    username_attribute: str
    picture_attribute: str
    user_filter: str
    timestamp_pattern: str
    # Default-field attribute names that differ from the OpenLDAP names.
    field_attributes: dict[str, str] = field(default_factory=dict)
    # Extra attributes the sync must read to decide whether an account is active.
    status_attributes: tuple[str, ...] = ()
    # Other attributes a person may type as their login name, besides the user name
    # attribute (AD: the userPrincipalName, ann@example.com). They find the same entry,
    # so the same profile; the profile's user name stays the user name attribute's value.
    login_alias_attributes: tuple[str, ...] = ()
    decode_unique_id: object = _text_id
    is_disabled: object = _never_disabled
    # Update sequence numbers (uSNChanged, highestCommittedUSN): incremental sync by USN.
    update_sequence_numbers: bool = False
    # Large multi-valued attributes come in slices (``member;range=0-1499``) to be followed.
    ranged_values: bool = False


OPENLDAP = Vendor(
    key="openldap",
    label="OpenLDAP",
    unique_id_attribute="entryUUID",
    modify_timestamp_attribute="modifyTimestamp",
    username_attribute="uid",
    picture_attribute="jpegPhoto",
    user_filter="(objectClass=inetOrgPerson)",
    timestamp_pattern="yyyyMMddHHmmssZ",
)

ACTIVE_DIRECTORY = Vendor(
    key="ad",
    label="Active Directory",
    unique_id_attribute="objectGUID",
    modify_timestamp_attribute="whenChanged",
    username_attribute="sAMAccountName",
    picture_attribute="thumbnailPhoto",
    user_filter="(&(objectCategory=person)(objectClass=user))",
    timestamp_pattern="yyyyMMddHHmmss.Z",
    field_attributes={"department": "department", "picture": "thumbnailPhoto"},
    status_attributes=("userAccountControl",),
    login_alias_attributes=("userPrincipalName",),
    decode_unique_id=_guid_id,
    is_disabled=_ad_account_disabled,
    update_sequence_numbers=True,
    ranged_values=True,
)

GENERIC = Vendor(
    key="generic",
    label="Generic RFC 4512 directory",
    unique_id_attribute="entryUUID",
    modify_timestamp_attribute="modifyTimestamp",
    username_attribute="uid",
    picture_attribute="jpegPhoto",
    user_filter="(objectClass=inetOrgPerson)",
    timestamp_pattern="yyyyMMddHHmmssZ",
)

VENDORS: dict[str, Vendor] = {v.key: v for v in (OPENLDAP, ACTIVE_DIRECTORY, GENERIC)}
