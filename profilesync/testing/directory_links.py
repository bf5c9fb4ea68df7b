"""Setting DN-valued attributes (``manager``) on many entries of a test or demo server.

Active Directory refuses a ``manager`` naming an entry that does not exist yet, so
a demo adds its people first and links them afterwards, over one connection with
the requests pipelined (one round trip per window, not per person).
"""

from __future__ import annotations

from collections.abc import Iterable

import ldap


def set_dn_values(conn: ldap.ldapobject.LDAPObject, attribute: str,
                  values: Iterable[tuple[str, str]], *, window: int = 64) -> int:
    """Replace ``attribute`` of each entry DN with the given DN; how many were set."""
    pending: list[int] = []
    done = 0
    for dn, value in values:
        pending.append(conn.modify(dn, [(ldap.MOD_REPLACE, attribute, [value.encode()])]))
        done += 1
        if len(pending) >= window:
            conn.result(pending.pop(0))
    for msgid in pending:
        conn.result(msgid)
    return done
