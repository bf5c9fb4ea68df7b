"""Checks of directory settings that say which setting is wrong and how to fix it."""

from __future__ import annotations

import re

from profilesync.errors import InvalidSetting
from profilesync.ldapclient.connection import validate_url
from profilesync.ldapclient.dn import is_valid_dn
from profilesync.ldapclient.timestamps import parse_pattern

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_name(name: str, setting: str = "name") -> str:
    """A directory name is typed in commands and URLs: letters, digits, - and _."""
    if not _NAME.match(name):
        raise InvalidSetting(
            setting, f"{name!r} must be 1 to 64 letters, digits, - or _, e.g. corp-ldap")
    return name


def check_url(url: str, setting: str = "url") -> str:
    problem = validate_url(url)
    if problem:
        raise InvalidSetting(setting, f"{problem}, e.g. ldap://ldap.example.org:389")
    return url


def check_dn(value: str, setting: str, *, allow_empty: bool = True) -> str:
    value = value.strip()
    if not value:
        if allow_empty:
            return ""
        raise InvalidSetting(setting, "is required, e.g. dc=example,dc=org")
    if not is_valid_dn(value):
        raise InvalidSetting(
            setting, f"{value!r} is not a valid DN; write it like ou=people,dc=example,dc=org")
    return value


def check_filter(value: str, setting: str = "user_filter") -> str:
    """A cheap syntax check: parenthesised and balanced, so typos fail here, not at 3 a.m."""
    value = value.strip()
    if not value:
        return ""
    depth = 0
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                break
    if not (value.startswith("(") and value.endswith(")")) or depth != 0:
        raise InvalidSetting(
            setting,
            f"{value!r} is not a valid LDAP filter; it must be in balanced parentheses, "
            "e.g. (objectClass=inetOrgPerson)",
        )
    return value


def check_attribute_name(value: str, setting: str) -> str:
    value = value.strip()
    if value and not (value[0].isalpha() and all(c.isalnum() or c in "-;" for c in value)):
        raise InvalidSetting(setting, f"{value!r} is not an LDAP attribute name, e.g. telephoneNumber")
    return value


def check_positive(value: float, setting: str, *, maximum: float | None = None) -> float:
    if value <= 0 or (maximum is not None and value > maximum):
        limit = f" and at most {maximum:g}" if maximum is not None else ""
        raise InvalidSetting(setting, f"must be greater than 0{limit}; got {value:g}")
    return value


def check_share_percent(value: float, setting: str) -> float:
    if not 0 <= value <= 100:
        raise InvalidSetting(setting, f"must be a percentage from 0 to 100; got {value:g}")
    return value / 100


def check_count(value: int, setting: str, *, maximum: int = 1_000_000) -> int:
    """A whole number from 0 to ``maximum``, such as how many people may always go."""
    if int(value) != value or not 0 <= value <= maximum:
        raise InvalidSetting(setting, f"must be a whole number from 0 to {maximum}; got {value:g}")
    return int(value)


def check_timestamp_pattern(value: str, setting: str = "timestamp_pattern") -> str:
    """A pattern with every part of a date and time and only known letters."""
    value = value.strip()
    if value:
        parse_pattern(value, setting)
    return value
