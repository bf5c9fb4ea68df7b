"""The user directory configuration (DESIGN.md section 1)."""

from __future__ import annotations

from django.db import models

from profilesync.ldapclient.connection import ConnectionSettings
from profilesync.ldapclient.escaping import and_filter

from . import vendors
from .secrets import decrypt_secret, encrypt_secret


class DirectoryType(models.TextChoices):
    LDAP = "ldap", "LDAP directory connector"
    DELEGATED = "delegated", "Delegated LDAP authentication"
    INTERNAL = "internal", "Internal directory"
    CROWD = "crowd", "Remote user server (Crowd)"
    JIRA = "jira", "Remote user server (Jira)"


SYNCABLE_TYPES = {DirectoryType.LDAP, DirectoryType.DELEGATED}

REFUSAL_REASONS = {
    DirectoryType.INTERNAL: (
        "an internal directory keeps its users in this application's database; "
        "there is no LDAP server to import from"
    ),
    DirectoryType.CROWD: (
        "a remote user server (Crowd) does not expose its users over LDAP; "
        "configure the LDAP directory behind it as an LDAP directory connector instead"
    ),
    DirectoryType.JIRA: (
        "a remote user server (Jira) does not expose its users over LDAP; "
        "configure the LDAP directory behind it as an LDAP directory connector instead"
    ),
}


class Vendor(models.TextChoices):
    OPENLDAP = "openldap", "OpenLDAP"
    AD = "ad", "Active Directory"
    GENERIC = "generic", "Generic RFC 4512"


class Directory(models.Model):
    """One configured user directory. Each profile belongs to exactly one."""

    name = models.SlugField(max_length=64, unique=True)
    type = models.CharField(max_length=16, choices=DirectoryType.choices, default=DirectoryType.LDAP)
    vendor = models.CharField(max_length=16, choices=Vendor.choices, default=Vendor.OPENLDAP)
    urls = models.JSONField(default=list, help_text="LDAP URLs tried in order")
    start_tls = models.BooleanField(default=False)
    ca_file = models.CharField(max_length=500, blank=True)
    bind_dn = models.CharField(max_length=500, blank=True)
    bind_password_encrypted = models.TextField(blank=True, editable=False)
    base_dn = models.CharField(max_length=500, blank=True)
    user_dn = models.CharField(max_length=500, blank=True, help_text="Additional user DN")
    user_filter = models.CharField(max_length=1000, blank=True)
    username_attribute = models.CharField(max_length=100, blank=True)
    unique_id_attribute = models.CharField(max_length=100, blank=True)
    modify_timestamp_attribute = models.CharField(max_length=100, blank=True)
    timestamp_pattern = models.CharField(max_length=64, blank=True)
    page_size = models.PositiveIntegerField(default=1000)
    connect_timeout = models.FloatField(default=5.0)
    operation_timeout = models.FloatField(default=60.0)
    max_deactivate_share = models.FloatField(
        default=0.2, help_text="A run that would deactivate more than this share stops."
    )
    max_deactivate_share_24h = models.FloatField(
        default=0.3, help_text="A run that would bring the deactivations of the last 24 hours "
        "past this share stops."
    )
    deactivation_floor = models.PositiveIntegerField(
        default=3, help_text="Up to this many people may always be deactivated, whatever the "
        "shares say (a directory of four people may lose one)."
    )
    # The largest page the server allowed the service account when a sync or a
    # connection test last found its page size refused (None: never refused).
    server_page_size_limit = models.PositiveIntegerField(null=True, blank=True, editable=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "directories"

    def __str__(self) -> str:
        return self.name

    # -- vendor defaults ---------------------------------------------------
    @property
    def vendor_info(self) -> vendors.Vendor:
        return vendors.VENDORS[self.vendor]

    def fill_vendor_defaults(self) -> None:
        """Fill every attribute setting left empty with the vendor's default."""
        info = self.vendor_info
        self.user_filter = self.user_filter or info.user_filter
        self.username_attribute = self.username_attribute or info.username_attribute
        self.unique_id_attribute = self.unique_id_attribute or info.unique_id_attribute
        self.modify_timestamp_attribute = (
            self.modify_timestamp_attribute or info.modify_timestamp_attribute
        )
        self.timestamp_pattern = self.timestamp_pattern or info.timestamp_pattern

    # -- secrets -----------------------------------------------------------
    def set_bind_password(self, plain: str) -> None:
        self.bind_password_encrypted = encrypt_secret(plain)

    @property
    def has_bind_password(self) -> bool:
        return bool(self.bind_password_encrypted)

    # -- derived -----------------------------------------------------------
    @property
    def search_base(self) -> str:
        """Base DN with the additional user DN in front, as users are searched."""
        return f"{self.user_dn},{self.base_dn}" if self.user_dn else self.base_dn

    # Each setting resolved once: the directory's own value, else the vendor's default.
    @property
    def effective_user_filter(self) -> str:
        return and_filter(self.user_filter or self.vendor_info.user_filter)

    @property
    def effective_username_attribute(self) -> str:
        return self.username_attribute or self.vendor_info.username_attribute

    @property
    def effective_unique_id_attribute(self) -> str:
        return self.unique_id_attribute or self.vendor_info.unique_id_attribute

    @property
    def effective_modify_timestamp_attribute(self) -> str:
        return self.modify_timestamp_attribute or self.vendor_info.modify_timestamp_attribute

    @property
    def effective_timestamp_pattern(self) -> str:
        return self.timestamp_pattern or self.vendor_info.timestamp_pattern

    @property
    def page_size_note(self) -> str:
        """What the directory page says when the server refused the configured page size."""
        if self.server_page_size_limit is None:
            return ""
        return (f"the server allows at most {self.server_page_size_limit} entries per page; "
                f"the directory's page size is now {self.page_size}")

    def sync_refusal(self) -> str | None:
        """Why this directory cannot be synced, or None when it can."""
        return REFUSAL_REASONS.get(DirectoryType(self.type))

    def connection_settings(self) -> ConnectionSettings:
        return ConnectionSettings(
            urls=tuple(self.urls),
            bind_dn=self.bind_dn,
            bind_password=decrypt_secret(self.bind_password_encrypted),
            start_tls=self.start_tls,
            ca_file=self.ca_file,
            connect_timeout=self.connect_timeout,
            operation_timeout=self.operation_timeout,
        )
