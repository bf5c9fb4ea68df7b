"""Profile fields (the profile editor) and the profiles themselves.

A profile keeps all its field values in one JSON column and a digest of the
raw directory attributes they came from, so a sync writes one row per changed
person and decides "unchanged" without decoding or comparing values.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from profilesync.directories.models import Directory


class FieldType(models.TextChoices):
    TEXT = "text", "Text input"
    MULTILINE = "multiline", "Multiline text"
    SELECT = "select", "Select"
    MULTISELECT = "multiselect", "Multi-select"
    DATE = "date", "Date"
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"
    URL = "url", "URL"
    PICTURE = "picture", "Profile picture"
    # Another profile, named by a DN-valued attribute (``manager``): profiles.person_links.
    PERSON = "person", "Person"


# Date fields come from directory timestamps in many notations; writing one back
# would need the directory's own notation, which no schema tells us reliably.
WRITE_BACK_REFUSED_TYPES = {FieldType.DATE}


class ProfileField(models.Model):
    key = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=200)
    help_text = models.CharField(max_length=500, blank=True)
    category = models.CharField(max_length=100, blank=True)
    type = models.CharField(max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    options = models.JSONField(default=list, blank=True)
    required = models.BooleanField(default=False)
    shown_in_profile = models.BooleanField(default=True)
    searchable = models.BooleanField(default=False)
    ldap_attribute = models.CharField(max_length=100, blank=True)
    write_back = models.BooleanField(default=False)
    # Roles (accounts.roles.Role values) that see this field on other people's profile
    # pages; empty: everyone. The owner and administrators always see it.
    visible_to = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.key


class FieldAttributeOverride(models.Model):
    """The LDAP attribute one directory uses for a field instead of the field's own."""

    field = models.ForeignKey(ProfileField, on_delete=models.CASCADE, related_name="overrides")
    directory = models.ForeignKey(Directory, on_delete=models.CASCADE, related_name="field_overrides")
    ldap_attribute = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["field", "directory"], name="one_override_per_directory")
        ]


class Profile(models.Model):
    """One person, identified by their directory's unique ID (not the DN: renames keep it)."""

    # No index of its own: the unique (directory, unique_id) index begins with it.
    directory = models.ForeignKey(Directory, on_delete=models.PROTECT, related_name="profiles",
                                  db_index=False)
    unique_id = models.CharField(max_length=100)
    username = models.CharField(max_length=255)  # indexed in Meta.indexes
    dn = models.CharField(max_length=1000)
    active = models.BooleanField(default=True)
    display_name = models.CharField(max_length=255, blank=True)  # indexed in Meta.indexes
    values = models.JSONField(default=dict)
    picture = models.CharField(max_length=255, blank=True, help_text="Name in the media storage")
    # What the person entered themselves, for fields their directory does not feed. The sync
    # writes `values` and `picture` wholesale and never these two columns, so nothing here is
    # lost at the next run. Database defaults, because the sync inserts rows with plain SQL.
    local_values = models.JSONField(default=dict, blank=True, db_default=models.Value(
        {}, output_field=models.JSONField()))
    local_picture = models.CharField(max_length=255, blank=True, db_default="")
    # What the people search reads (profiles.search.text): the words of the names and of
    # the searchable fields, and the folded name the directory is sorted by. Written with
    # the values by every writer; the database's own search index is built over them.
    search_text = models.TextField(blank=True, db_default="")
    sort_name = models.CharField(max_length=255, blank=True, db_default="")
    digest = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    # The login of this person, made at their first directory login.
    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="profile")

    class Meta:
        ordering = ["display_name", "username"]
        constraints = [
            models.UniqueConstraint(fields=["directory", "unique_id"], name="one_profile_per_entry")
        ]
        # Every index is paid for by each row a sync writes (migration 0007). username
        # (looked up by equality) and display_name (the default ordering) are indexed
        # here, not with db_index, which on PostgreSQL adds a varchar_pattern_ops twin
        # for LIKE 'prefix%' that no query runs.
        indexes = [
            models.Index(fields=["username"], name="profiles_username_idx"),
            models.Index(fields=["display_name"], name="profiles_display_name_idx"),
            models.Index(fields=["sort_name", "id"], name="profiles_sort_name_idx"),
            # Counting the active people of the listing reads only this index.
            models.Index(fields=["active"], name="profiles_active_idx"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def shown_picture(self) -> str:
        """The picture to show: the directory's when it has one, else the one uploaded here.

        The sync stores a directory picture only while a picture field is fed by LDAP,
        and the edit dialog accepts an upload only while none is, so at most one of the
        two is current; the directory's wins if both are set.
        """
        return self.picture or self.local_picture


class StoredPicture(models.Model):
    """A picture's bytes under its content-addressed name (``profiles.pictures``).

    Pictures live in the database, next to the profiles that name them: the sync
    writes a page's new pictures in one statement with the page's rows (10,000
    files cost a first import 3 to 9 s of kernel time), they roll back with a
    failed run, and every node of a cluster reads the same ones.
    """

    name = models.CharField(max_length=255, primary_key=True)
    data = models.BinaryField()

    def __str__(self) -> str:
        return self.name


class PersonLink(models.Model):
    """Which profile a Person field of one profile names (``profiles.person_links``).

    One row per profile and Person field, written after each sync page: the profile's
    own DN and the named DN, both normalised (``*_key``), so "who is the profile with
    this DN?" and "who names this DN?" are indexed look-ups within a directory, and
    ``target`` is the resolved profile (null while no profile has that DN). Kept apart
    from ``Profile`` so the sync's bulk writes of profiles pay for none of these indexes.
    """

    profile = models.ForeignKey(Profile, on_delete=models.CASCADE, related_name="person_links")
    field_key = models.CharField(max_length=64)
    directory = models.ForeignKey(Directory, on_delete=models.CASCADE, related_name="+",
                                  db_index=False)
    own_key = models.CharField(max_length=1000)
    target_dn = models.CharField(max_length=1000, blank=True)
    target_key = models.CharField(max_length=1000, blank=True)
    target = models.ForeignKey(Profile, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "field_key"], name="one_link_per_field")
        ]
        indexes = [
            models.Index(fields=["directory", "own_key"], name="person_link_own_idx"),
            models.Index(fields=["directory", "target_key"], name="person_link_target_key_idx"),
            # The org chart's "who reports to X": one index range per level.
            models.Index(fields=["target", "field_key"], name="person_link_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.profile_id}.{self.field_key} -> {self.target_dn}"
