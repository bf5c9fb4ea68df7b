"""The directory form: every setting of `directory add` / `directory set`, checked by the service.

The bind password is a password input that is never filled back; left empty it
keeps the stored one. Editing sends the service only the settings that changed,
as `directory set` with only those options would, so changing the vendor moves
the attribute settings left untouched to the new vendor's defaults.
"""

from __future__ import annotations

from django import forms

from profilesync.directories import validation
from profilesync.directories.models import Directory, DirectoryType, Vendor
from profilesync.directories.services import apply_options, create_directory, update_directory
from profilesync.errors import InvalidSetting

from .service_forms import ServiceForm

VENDOR_DEFAULT = "Empty: the vendor's default."

# Settings passed to the service under their own name (the name and password aside).
OPTIONS = ("type", "vendor", "urls", "start_tls", "ca_file", "bind_dn", "base_dn", "user_dn",
           "user_filter", "username_attribute", "unique_id_attribute",
           "modify_timestamp_attribute", "timestamp_pattern", "page_size", "connect_timeout",
           "operation_timeout", "max_deactivate_percent", "max_deactivate_percent_24h",
           "deactivation_floor")


class DirectoryForm(ServiceForm):
    SETTING_FIELDS = {"url": "urls"}
    FIELDSETS = (
        ("Directory", ("name", "type", "vendor")),
        ("Connection", ("urls", "start_tls", "ca_file", "bind_dn", "bind_password",
                        "connect_timeout", "operation_timeout")),
        ("Users", ("base_dn", "user_dn", "user_filter", "username_attribute",
                   "unique_id_attribute")),
        ("Sync", ("modify_timestamp_attribute", "timestamp_pattern", "page_size",
                  "max_deactivate_percent", "max_deactivate_percent_24h", "deactivation_floor")),
    )

    name = forms.CharField(
        max_length=64, help_text="Typed in commands and shown in reports: letters, digits, - and _, "
        "e.g. corp-ldap. It cannot be changed later.")
    type = forms.ChoiceField(choices=DirectoryType.choices, initial=DirectoryType.LDAP)
    vendor = forms.ChoiceField(choices=Vendor.choices, initial=Vendor.OPENLDAP)
    urls = forms.CharField(
        required=False, label="URLs", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One per line, tried in order (replicas): ldap://, ldaps:// or ldapi://, "
        "e.g. ldap://ldap.example.org:389")
    start_tls = forms.BooleanField(required=False, label="Use StartTLS on ldap:// URLs")
    ca_file = forms.CharField(max_length=500, required=False, label="CA file",
                              help_text="PEM file of the certificate authority that signed the "
                              "server's certificate. Empty: the system's trusted authorities.")
    bind_dn = forms.CharField(max_length=500, required=False, label="Bind DN",
                              help_text="The account profilesync reads the directory as, e.g. "
                              "cn=profilesync,ou=services,dc=example,dc=org. Empty: anonymous.")
    bind_password = forms.CharField(
        max_length=1000, required=False, label="Bind password", strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}))
    base_dn = forms.CharField(max_length=500, required=False, label="Base DN",
                              help_text="e.g. dc=example,dc=org")
    user_dn = forms.CharField(max_length=500, required=False, label="Additional user DN",
                              help_text="Relative to the base DN, e.g. ou=people. Empty: search "
                              "the whole base DN.")
    user_filter = forms.CharField(max_length=1000, required=False, label="User object filter",
                                  help_text=VENDOR_DEFAULT)
    username_attribute = forms.CharField(max_length=100, required=False,
                                         label="User name attribute", help_text=VENDOR_DEFAULT)
    unique_id_attribute = forms.CharField(
        max_length=100, required=False, label="Unique ID attribute",
        help_text="Identifies a person across renames (entryUUID, objectGUID). " + VENDOR_DEFAULT)
    modify_timestamp_attribute = forms.CharField(
        max_length=100, required=False, label="Modification time attribute",
        help_text="What an incremental sync filters on (modifyTimestamp, whenChanged). "
        + VENDOR_DEFAULT)
    timestamp_pattern = forms.CharField(
        max_length=64, required=False, label="Timestamp pattern",
        help_text="How the last sync date is written into the incremental filter, e.g. "
        "yyyyMMddHHmmssZ (OpenLDAP) or yyyyMMddHHmmss.Z (AD); always UTC. " + VENDOR_DEFAULT)
    page_size = forms.IntegerField(initial=1000, help_text="Users read per page.")
    connect_timeout = forms.FloatField(initial=5.0, label="Connect timeout (seconds)")
    operation_timeout = forms.FloatField(initial=60.0, label="Operation timeout (seconds)")
    max_deactivate_percent = forms.FloatField(
        initial=20, label="Deactivation limit (%)",
        help_text="A sync that would deactivate more than this share of the directory's users "
        "stops and asks.")
    max_deactivate_percent_24h = forms.FloatField(
        initial=30, required=False, label="Deactivation limit per 24 hours (%)",
        help_text="A sync that would bring the deactivations of the last 24 hours past this "
        "share stops and asks, so runs that each stay under the limit above cannot add up. "
        "Empty: 30.")
    deactivation_floor = forms.IntegerField(
        initial=3, required=False, label="People who may always go",
        help_text="Up to this many deactivations never stop a sync, whatever the shares (a "
        "directory of four people may lose one). Empty: 3.")

    def __init__(self, *args, directory: Directory | None = None, **kwargs):
        self.directory = directory
        if directory is not None:
            kwargs.setdefault("initial", _initial_of(directory))
        super().__init__(*args, **kwargs)
        if directory is not None and directory.page_size_note:
            # What the last sync or connection test learned from the server.
            self.fields["page_size"].help_text = directory.page_size_note[0].upper() + \
                directory.page_size_note[1:] + "."
        password = self.fields["bind_password"]
        if directory is None:
            password.help_text = "Stored encrypted and never shown again."
        else:
            del self.fields["name"]
            state = "A password is stored" if directory.has_bind_password else "No password is stored"
            password.help_text = (f"{state}. Leave empty to keep the stored password; it is "
                                  "never shown again.")

    @property
    def fieldsets(self) -> list[tuple[str, list]]:
        """(legend, bound fields) in page order; the name only while adding."""
        return [(legend, [self[name] for name in names if name in self.fields])
                for legend, names in self.FIELDSETS]

    def clean_name(self) -> str:
        try:
            return validation.check_name(self.cleaned_data["name"])
        except InvalidSetting as exc:
            raise forms.ValidationError(exc.message) from None

    def clean_urls(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["urls"].splitlines() if line.strip()]

    def clean(self):
        cleaned = super().clean()
        # Each setting alone through the service's own checks, so every bad field
        # shows its message at once (the service itself stops at the first).
        scratch = Directory()
        self.check_each(lambda name, value: apply_options(scratch, {name: value})
                        if name in OPTIONS and not (name == "urls" and not value) else None)
        self._password_follows_the_servers(cleaned)
        return cleaned

    def _password_follows_the_servers(self, cleaned: dict) -> None:
        """The stored bind password is sent only to the servers it was entered for: new
        URLs need it typed again, or "Test connection" would send it to any server."""
        directory = self.directory
        if directory is None or not directory.has_bind_password or cleaned.get("bind_password"):
            return
        if "urls" in cleaned and cleaned["urls"] != list(directory.urls):
            self.add_error("bind_password", "The URLs changed: enter the bind password again. "
                           "The stored one is only ever sent to the servers it was entered for.")

    def options(self) -> dict:
        """The settings for the service: all of them when adding, the changed ones when editing."""
        data = self.cleaned_data
        if self.directory is None:
            chosen = {name: data[name] for name in OPTIONS}
            if not chosen["urls"]:
                chosen["urls"] = None  # "needs a URL" is the service's to say, per type
        else:
            chosen = {name: data[name] for name in OPTIONS if name in self.changed_data}
        if data.get("bind_password"):
            chosen["bind_password"] = data["bind_password"]
        return chosen

    def save(self) -> Directory | None:
        """Create or change the directory; None (and errors at the fields) when refused."""
        try:
            if self.directory is None:
                return create_directory(self.cleaned_data["name"], self.options())
            return update_directory(self.directory, self.options())
        except InvalidSetting as exc:
            self.add_setting_error(exc)
            if self.directory is not None:
                self.directory.refresh_from_db()
            return None


def _initial_of(directory: Directory) -> dict:
    initial = {name: getattr(directory, name) for name in OPTIONS
               if name not in ("urls", "max_deactivate_percent", "max_deactivate_percent_24h")}
    initial["urls"] = "\n".join(directory.urls)
    initial["max_deactivate_percent"] = round(directory.max_deactivate_share * 100, 2)
    initial["max_deactivate_percent_24h"] = round(directory.max_deactivate_share_24h * 100, 2)
    return initial
