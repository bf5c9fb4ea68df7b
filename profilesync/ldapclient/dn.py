"""Checks of distinguished names, so code outside ldapclient/ needs no python-ldap."""

from __future__ import annotations

import ldap
import ldap.dn


def is_valid_dn(value: str) -> bool:
    """Whether ``value`` parses as a DN (RFC 4514), as libldap reads it."""
    try:
        ldap.dn.str2dn(value)
    except ldap.DECODING_ERROR:
        return False
    return True
