"""Which way a directory's changes reach the listener, and whether live is on for it.

Vendor facts, read from the root DSE the listener has just fetched:

* OpenLDAP with syncprov (the sync control listed, profiles keyed by
  entryUUID): pushed by refreshAndPersist;
* Active Directory: an incremental run by ``uSNChanged`` when the DC's change
  notification (1.2.840.113556.1.4.528, where listed; Samba does) wakes the
  listener, and at the latest every ``poll_seconds`` when
  ``highestCommittedUSN`` moved (deletions send no notification);
* anything else: an incremental run every ``poll_seconds``.

Live is on by default where the server pushes or notifies; polling runs only
where an administrator switched live on.
"""

from __future__ import annotations

from profilesync.directories.models import Directory
from profilesync.ldapclient.syncrepl import offers_syncrepl

from .models import LiveListener

PERSIST = "syncrepl"
USN_POLL = "usn-poll"
NOTIFICATION = "notification"  # a USN poll woken early by the DC's change notification
POLL = "poll"

NOTIFICATION_OID = b"1.2.840.113556.1.4.528"
OFF_BY_DEFAULT = "off by default"


def choose(directory: Directory, root_dse: dict[str, list[bytes]]) -> str:
    if (directory.effective_unique_id_attribute.lower() == "entryuuid"
            and offers_syncrepl(root_dse)):
        return PERSIST
    if directory.vendor_info.update_sequence_numbers and root_dse.get("highestcommittedusn"):
        return USN_POLL
    return POLL


def offers_notification(root_dse: dict[str, list[bytes]]) -> bool:
    return NOTIFICATION_OID in root_dse.get("supportedcontrol", [])


def enabled(row: LiveListener, method: str, root_dse: dict[str, list[bytes]] | None = None) -> bool:
    if row.live is not None:
        return row.live
    return method == PERSIST or (method == USN_POLL and (root_dse is None
                                                         or offers_notification(root_dse)))


def off_reason(row: LiveListener, method: str) -> str:
    if row.live is False:
        return "switched off by an administrator"
    return (f"{OFF_BY_DEFAULT}: the directory offers neither push (syncrepl) nor notification; "
            "switch live on to poll it every "
            f"{row.poll_seconds:g} s (`profilesync directory set NAME --live on`)")


def poll_reason(directory: Directory, method: str, seconds: float) -> str:
    if method == USN_POLL:
        return f"polling uSNChanged every {seconds:g} s"
    return f"polling by modification time every {seconds:g} s (the directory pushes nothing)"
