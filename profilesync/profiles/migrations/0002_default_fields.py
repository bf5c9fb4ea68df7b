"""Create the default profile fields once per database."""

from django.db import migrations

from profilesync.profiles.defaults import create_default_fields


def forwards(apps, schema_editor):
    create_default_fields(apps.get_model("profiles", "ProfileField"))


class Migration(migrations.Migration):
    dependencies = [("profiles", "0001_initial")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
