"""LDIF for test people whose modification time a test chooses (slapadd keeps it)."""

from __future__ import annotations

import datetime as dt

PEOPLE_OU = "dn: ou=people,dc=example,dc=org\nobjectClass: organizationalUnit\nou: people\n\n"


def person_ldif(uid: str, modified: dt.datetime, title: str = "Engineer") -> str:
    """An inetOrgPerson under ou=people,dc=example,dc=org last modified at ``modified``."""
    stamp = modified.astimezone(dt.UTC).strftime("%Y%m%d%H%M%SZ")
    return (f"dn: uid={uid},ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\n"
            f"uid: {uid}\ncn: {uid}\nsn: {uid}\ntitle: {title}\nmodifyTimestamp: {stamp}\n\n")
