"""A thin layer over python-ldap: connect, bind, paged search, escaping.

Naming kept throughout the project: a name ending in ``_dn`` is a DN string; an
*entry* is a ``(dn, attributes)`` pair whose attribute values are raw ``bytes``
(decoding is the caller's choice, so binary photos stay intact); a *page* is a
list of entries.
"""
