"""Security fix (issue 13): no field reads an attribute that holds secrets.

Fields and overrides may no longer be pointed at ``userPassword`` and the like
(``directories.secret_attributes``); this undoes such a mapping made before the
rule, and removes the values it brought in (password hashes) from every profile
and from the search text. A field left without an attribute is the person's own;
an override left empty means "not read from this directory".
"""

from django.db import migrations

from profilesync.directories.secret_attributes import SECRET_ATTRIBUTES, base_name
from profilesync.profiles.search.columns import refresh_search_columns


def unmap_secrets(apps, schema_editor):
    ProfileField = apps.get_model("profiles", "ProfileField")
    Override = apps.get_model("profiles", "FieldAttributeOverride")
    Profile = apps.get_model("profiles", "Profile")
    keys = set()
    for field in ProfileField.objects.exclude(ldap_attribute=""):
        if base_name(field.ldap_attribute) in SECRET_ATTRIBUTES:
            field.ldap_attribute = ""
            field.write_back = False
            field.save(update_fields=["ldap_attribute", "write_back"])
            keys.add(field.key)
    for override in Override.objects.exclude(ldap_attribute="").select_related("field"):
        if base_name(override.ldap_attribute) in SECRET_ATTRIBUTES:
            override.ldap_attribute = ""
            override.save(update_fields=["ldap_attribute"])
            keys.add(override.field.key)
    if not keys:
        return
    for key in keys:
        for profile in Profile.objects.filter(values__has_key=key).only("pk", "values").iterator():
            values = dict(profile.values)
            values.pop(key, None)
            Profile.objects.filter(pk=profile.pk).update(values=values, digest="")
    refresh_search_columns(profile_model=Profile, field_model=ProfileField)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_login_attempts"),
        ("profiles", "0007_fewer_profile_indexes"),
    ]

    operations = [
        migrations.RunPython(unmap_secrets, migrations.RunPython.noop),
    ]
