"""Directory setting checks: each refusal names the setting and shows a right value."""

from __future__ import annotations

import pytest

from profilesync.directories import validation
from profilesync.errors import InvalidSetting


@pytest.mark.parametrize("url", [
    "ldap://ldap.example.org", "ldaps://ldap.example.org:636", "ldap://127.0.0.1:3890",
    "ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi",
])
def test_ldap_urls_are_accepted(url):
    """ldap://, ldaps:// and ldapi:// URLs are taken as typed."""
    assert validation.check_url(url) == url


@pytest.mark.parametrize("url", ["http://ldap.example.org", "ldap.example.org", "ldap://", ""])
def test_other_urls_are_refused_with_an_example(url):
    """A web URL or a bare host name is refused, and the message shows what a URL looks like."""
    with pytest.raises(InvalidSetting) as caught:
        validation.check_url(url)
    assert caught.value.setting == "url"
    assert "ldap://" in caught.value.message


def test_dn_with_escaped_characters_is_accepted():
    """DNs with escaped commas and multi-valued RDNs are valid and kept as typed."""
    dn = r"cn=Smith\, John+uid=jsmith,ou=people,dc=example,dc=org"
    assert validation.check_dn(dn, "base_dn") == dn


@pytest.mark.parametrize("dn", ["example.org", "dc=example,,dc=org", "=x,dc=org", "cn=a,dc"])
def test_malformed_dn_is_refused_naming_the_setting(dn):
    """A mistyped base DN is refused before anything talks to the server."""
    with pytest.raises(InvalidSetting) as caught:
        validation.check_dn(dn, "base_dn")
    assert caught.value.setting == "base_dn"
    assert "not a valid DN" in caught.value.message


def test_empty_dn_is_allowed_unless_required():
    """An optional DN may be left empty; a required one says it is required."""
    assert validation.check_dn("  ", "user_dn") == ""
    with pytest.raises(InvalidSetting, match="required"):
        validation.check_dn("", "base_dn", allow_empty=False)


@pytest.mark.parametrize("value", [
    "(objectClass=inetOrgPerson)",
    "(&(objectClass=person)(!(employeeType=former)))",
    r"(cn=a\29b)",
])
def test_balanced_filters_are_accepted(value):
    """Well-formed filters, including escaped parentheses in values, pass."""
    assert validation.check_filter(value) == value


@pytest.mark.parametrize("value", [
    "objectClass=person", "(objectClass=person", "(&(a=b)(c=d)", "(a=b))(", "(a=b))",
])
def test_unbalanced_filters_are_refused(value):
    """A filter typo is caught when it is saved, not at the 3 a.m. sync."""
    with pytest.raises(InvalidSetting) as caught:
        validation.check_filter(value)
    assert caught.value.setting == "user_filter"
    assert "(objectClass=inetOrgPerson)" in caught.value.message


@pytest.mark.parametrize("value", ["mail", "telephoneNumber", "jpegPhoto;binary", "x-custom-1"])
def test_attribute_names_are_accepted(value):
    """Attribute names with options and hyphens are valid."""
    assert validation.check_attribute_name(value, "ldap_attribute") == value


@pytest.mark.parametrize("value", ["1mail", "mail address", "(mail)", "mail,cn"])
def test_non_attribute_names_are_refused(value):
    """Something that is not an attribute name is refused, naming the setting."""
    with pytest.raises(InvalidSetting) as caught:
        validation.check_attribute_name(value, "ldap_attribute")
    assert caught.value.setting == "ldap_attribute"


def test_positive_numbers_have_bounds():
    """Page size and timeouts must be above zero and below their maximum."""
    assert validation.check_positive(500, "page_size", maximum=100000) == 500
    with pytest.raises(InvalidSetting, match="greater than 0"):
        validation.check_positive(0, "page_size")
    with pytest.raises(InvalidSetting, match="at most 3600"):
        validation.check_positive(7200, "connect_timeout", maximum=3600)


def test_deactivation_limit_is_a_percentage():
    """The deactivation limit is typed as a percentage and stored as a share."""
    assert validation.check_share_percent(20, "max_deactivate_percent") == pytest.approx(0.2)
    with pytest.raises(InvalidSetting) as caught:
        validation.check_share_percent(120, "max_deactivate_percent")
    assert caught.value.setting == "max_deactivate_percent"


@pytest.mark.parametrize("name", ["My Dir", "", "a/b", "-lead", "x" * 65])
def test_directory_name_must_be_typable(name):
    """A directory name with spaces or slashes is refused, naming the setting and an example."""
    from profilesync.directories.validation import check_name

    with pytest.raises(InvalidSetting) as refused:
        check_name(name)
    assert refused.value.setting == "name" and "corp-ldap" in refused.value.message
