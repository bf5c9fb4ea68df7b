"""Active Directory's deleted objects: who was deleted since a watermark.

AD has no syncrepl. A deleted object becomes a tombstone (or, with the
Recycle Bin, a deleted object) in the domain's Deleted Objects container: it
keeps ``objectGUID`` and ``sAMAccountName``, gets ``isDeleted=TRUE``, loses
most other attributes (``objectCategory`` too, so the user filter no longer
matches it) and its ``uSNChanged`` and ``whenChanged`` move to the deletion.
Such objects are only returned with the Show Deleted control.

We find the container by its well-known GUID, which holds for every language
of AD (and for Samba), rather than by the name ``CN=Deleted Objects``.

The alternative, the DirSync control, was measured on Samba and not chosen: its
answers carry only the attributes that changed (a title change came back as
``title`` and ``objectGUID`` alone), so every changed entry would need a second
read for the digest; it needs the "Replicating Directory Changes" right, and a
cookie of its own besides the USN watermark that the changes already need.
"""

from __future__ import annotations

from collections.abc import Iterator

import ldap
from ldap.controls import LDAPControl
from ldap.ldapobject import LDAPObject

from .errors import BaseDNNotFound, DirectoryError, SearchFailed, describe_ldap_error
from .escaping import and_filter
from .search import paged_search

SHOW_DELETED_OID = "1.2.840.113556.1.4.417"
# MS-ADTS 6.1.1.4: GUID_DELETED_OBJECTS_CONTAINER_W.
DELETED_OBJECTS_WKGUID = "18e2ea80684f11d2b9aa00c04f79f805"


class DeletedObjectsUnavailable(DirectoryError):
    """The deleted-objects search cannot be made here; deletions wait for reconciliation."""

    setting = "bind_dn"
    hint = ("the service account needs to list the Deleted Objects container "
            "(dsacls \"CN=Deleted Objects,<domain DN>\" /takeownership, then /G <account>:LCRP)")


def offers_show_deleted(root_dse: dict[str, list[bytes]]) -> bool:
    return SHOW_DELETED_OID.encode() in root_dse.get("supportedcontrol", [])


def deleted_objects_container(naming_context_dn: str) -> str:
    """The Deleted Objects container of a domain naming context, by well-known GUID."""
    return f"<WKGUID={DELETED_OBJECTS_WKGUID},{naming_context_dn}>"


def deleted_ids(conn: LDAPObject, naming_context_dn: str, since_filter: str,
                id_attribute: str = "objectGUID", page_size: int = 1000) -> Iterator[list[bytes]]:
    """Pages of raw ``id_attribute`` values of objects deleted since ``since_filter``.

    ``since_filter`` is ``(uSNChanged>=N)`` or ``(whenChanged>=T)``: a deletion
    moves both. Every deleted object matches, not only users (the user filter
    cannot: tombstones lost ``objectCategory``); the caller keeps the IDs it
    knows as profiles. An account without rights on the container gets no
    deleted objects and no error either (measured on Samba), so an empty answer
    cannot be told from "nobody was deleted"; reconciliation covers that case.
    """
    show_deleted = LDAPControl(SHOW_DELETED_OID, True, None)
    filterstr = and_filter("(isDeleted=TRUE)", since_filter)
    try:
        for page in paged_search(conn, deleted_objects_container(naming_context_dn), filterstr,
                                 [id_attribute], page_size=page_size, controls=[show_deleted]):
            ids = []
            for _dn, attributes in page:
                values = {name.lower(): v for name, v in attributes.items()}.get(id_attribute.lower())
                if values:
                    ids.append(values[0])
            yield ids
    except BaseDNNotFound as exc:
        raise DeletedObjectsUnavailable(
            f"the Deleted Objects container of {naming_context_dn!r} was not found") from exc
    except SearchFailed as exc:
        cause = exc.__cause__
        if isinstance(cause, (ldap.UNAVAILABLE_CRITICAL_EXTENSION, ldap.INSUFFICIENT_ACCESS,
                              ldap.UNWILLING_TO_PERFORM)):
            raise DeletedObjectsUnavailable(
                f"the deleted-objects search was refused: {describe_ldap_error(cause)}") from exc
        raise
