"""The demo's directory configurations follow their servers and keep an administrator's changes."""

from __future__ import annotations

import pytest

from profilesync.demo.directory_config import ensure_demo_ad_directory, ensure_demo_directory
from profilesync.directories.secrets import decrypt_secret
from profilesync.directories.services import update_directory

pytestmark = pytest.mark.django_db


def test_openldap_demo_directory_follows_the_port_and_keeps_other_settings(fresh_install):
    """A new port updates the URL; a page size the administrator chose stays."""
    first, created = ensure_demo_directory("ldap://127.0.0.1:4001", "root-pw")
    update_directory(first, {"page_size": 250})

    again = ensure_demo_directory("ldap://127.0.0.1:4001", "root-pw")[1]
    moved, updated = ensure_demo_directory("ldap://127.0.0.1:4002", "root-pw")

    assert (created, again, updated) == ("created", "unchanged", "updated")
    assert moved.urls == ["ldap://127.0.0.1:4002"] and moved.page_size == 250
    assert (moved.vendor, moved.name) == ("openldap", "demo")


def test_ad_demo_directory_is_its_own_and_follows_address_ca_and_password(fresh_install):
    """The AD demo uses "demo-ad" (never the OpenLDAP demo's profiles) and keeps URL, CA file
    and the DC's administrator password current."""
    ensure_demo_directory("ldap://127.0.0.1:4001", "root-pw")
    options = dict(ca_file="/x/ca.pem", base_dn="DC=example,DC=test",
                   bind_dn="CN=Administrator,CN=Users,DC=example,DC=test")
    directory, created = ensure_demo_ad_directory("ldaps://127.0.0.2", bind_password="pw-1",
                                                  **options)
    options["ca_file"] = "/y/ca.pem"
    moved, updated = ensure_demo_ad_directory("ldaps://127.0.0.3", bind_password="pw-2", **options)

    assert (created, updated) == ("created", "updated")
    assert (moved.name, moved.vendor, moved.search_base) == (
        "demo-ad", "ad", "OU=people,DC=example,DC=test")
    assert (moved.urls, moved.ca_file) == (["ldaps://127.0.0.3"], "/y/ca.pem")
    assert decrypt_secret(moved.bind_password_encrypted) == "pw-2"
