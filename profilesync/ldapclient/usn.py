"""Active Directory's update sequence numbers: which domain controller, and how far it got.

Every write on an AD domain controller takes the next number of that DC's own
sequence: an entry's ``uSNChanged`` is the number of its latest write *on this
DC*, and the root DSE's ``highestCommittedUSN`` is the latest committed number.
The numbers are local. Another DC numbers the same changes differently, and a
DC restored from a backup hands out again the numbers used after the backup;
AD gives a restored DC a new ``invocationId`` for exactly that reason. So a
stored USN means something only together with the DC it came from: the DN of
its NTDS Settings object (the root DSE's ``dsServiceName``) and that object's
``invocationId``.

Names: a ``UsnReading`` is (DC identity, highestCommittedUSN) read at one moment.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import ldap
from ldap.ldapobject import LDAPObject

from .errors import DirectoryUnreachable, describe_ldap_error


@dataclass(frozen=True)
class DomainControllerIdentity:
    """Who numbered the USNs: NTDS Settings DN and invocation ID (``""`` when unreadable)."""

    server_dn: str
    invocation_id: str

    def describe(self) -> str:
        invocation = self.invocation_id or "unknown"
        return f"{self.server_dn} (invocationId {invocation})"

    def same_as(self, other: DomainControllerIdentity) -> bool:
        """Same DC, not restored since. DNs compare case-insensitively, as LDAP does.

        An invocation ID that could not be read on either side is not held
        against the other: then only the DC's name is compared.
        """
        if self.server_dn.lower() != other.server_dn.lower():
            return False
        if self.invocation_id and other.invocation_id:
            return self.invocation_id == other.invocation_id
        return True


@dataclass(frozen=True)
class UsnReading:
    identity: DomainControllerIdentity
    highest_committed_usn: int


def read_usn(conn: LDAPObject, root_dse: dict[str, list[bytes]]) -> UsnReading | None:
    """The DC's identity and ``highestCommittedUSN`` from an already-read root DSE.

    None when the server publishes no USN or no ``dsServiceName`` (not an AD
    domain controller). The root DSE must have been read before the run reads
    any entry, so every change the run might miss has a higher USN.
    """
    usn_values = root_dse.get("highestcommittedusn")
    name_values = root_dse.get("dsservicename")
    if not usn_values or not name_values:
        return None
    try:
        usn = int(usn_values[0])
    except ValueError:
        return None
    server_dn = name_values[0].decode("utf-8")
    return UsnReading(DomainControllerIdentity(server_dn, read_invocation_id(conn, server_dn)), usn)


def read_invocation_id(conn: LDAPObject, server_dn: str) -> str:
    """The ``invocationId`` of the NTDS Settings object ``server_dn``, ``""`` if not readable."""
    try:
        result = conn.search_s(server_dn, ldap.SCOPE_BASE, "(objectClass=*)", ["invocationId"])
    except (ldap.SERVER_DOWN, ldap.TIMEOUT) as exc:
        raise DirectoryUnreachable(f"the directory stopped answering: {describe_ldap_error(exc)}") from exc
    except ldap.LDAPError:
        return ""
    for dn, attributes in result:
        if dn is None:
            continue
        values = {name.lower(): v for name, v in attributes.items()}.get("invocationid")
        if values and len(values[0]) == 16:
            return str(uuid.UUID(bytes_le=values[0]))
    return ""


def changed_since_filter(usn: int) -> str:
    """Entries written on this DC after ``usn`` (AD has ``>=`` but no ``>``)."""
    return f"(uSNChanged>={int(usn) + 1})"
