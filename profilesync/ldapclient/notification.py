"""Active Directory's change notification (LDAP_SERVER_NOTIFICATION_OID): a wake-up call.

A search carrying the control 1.2.840.113556.1.4.528 stays open and the DC
sends an entry each time an object under the base changes. The listener uses
it only to wake up: what changed is then read by an incremental run by
``uSNChanged`` (which also finds deletions, which a notification under the
search base does not report, as deleted objects move out of it). Samba lists
and honours the control; a DC that refuses it (Windows allows only some
scopes and bases) makes the caller poll instead.
"""

from __future__ import annotations

import ldap
from ldap.controls import RequestControl
from ldap.ldapobject import LDAPObject

from .errors import DirectoryError, DirectoryUnreachable, describe_ldap_error

NOTIFICATION_OID = "1.2.840.113556.1.4.528"


class NotificationRefused(DirectoryError):
    """The DC refused the notification search; the listener polls instead."""

    setting = "url"
    hint = "the listener polls uSNChanged every live_poll_seconds instead"


class NotificationWatch:
    """One open notification search under ``base_dn``."""

    def __init__(self, conn: LDAPObject, base_dn: str):
        self.conn = conn
        try:
            self.msgid = conn.search_ext(base_dn, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["1.1"],
                                         serverctrls=[RequestControl(NOTIFICATION_OID, True,
                                                                     None)])
        except ldap.LDAPError as exc:
            raise NotificationRefused(f"change notification refused: "
                                      f"{describe_ldap_error(exc)}") from exc

    def wait(self, timeout: float) -> bool:
        """True when the DC reported a change within ``timeout`` seconds (drains the rest)."""
        changed = False
        wait = max(timeout, 0.001)
        while True:
            try:
                rtype, _data = self.conn.result(self.msgid, all=0, timeout=wait)
            except ldap.TIMEOUT:
                return changed
            except (ldap.SERVER_DOWN, ldap.CONNECT_ERROR) as exc:
                raise DirectoryUnreachable(
                    f"the directory stopped answering: {describe_ldap_error(exc)}") from exc
            except ldap.LDAPError as exc:
                raise NotificationRefused(f"change notification ended: "
                                          f"{describe_ldap_error(exc)}") from exc
            if rtype is None:
                return changed
            if rtype == ldap.RES_SEARCH_RESULT:
                raise NotificationRefused("the directory ended the notification search")
            changed = True
            wait = 0.05  # take whatever else came with this change, then report

    def abandon(self) -> None:
        try:
            self.conn.abandon(self.msgid)
        except ldap.LDAPError:
            pass
