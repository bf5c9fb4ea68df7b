"""The people search: search columns on profiles, the database's index over them, and the
default ``department`` field as a select (so the directory can filter on it).

The index is the vendor's own (SQLite FTS5 with triggers, PostgreSQL GIN over a
tsvector expression); ``profiles.search.index`` creates it, so this migration
runs on both databases. No extension is needed on PostgreSQL.
"""

from django.db import migrations, models

from profilesync.profiles.search import index
from profilesync.profiles.search.columns import refresh_search_columns


def department_as_select(apps, schema_editor):
    """The default field becomes a select if nobody changed it (still text, no options)."""
    ProfileField = apps.get_model("profiles", "ProfileField")
    field = ProfileField.objects.filter(key="department", type="text").first()
    if field is not None and not field.options:
        field.type = "select"
        field.save(update_fields=["type"])


def fill_and_index(apps, schema_editor):
    refresh_search_columns(profile_model=apps.get_model("profiles", "Profile"),
                           field_model=apps.get_model("profiles", "ProfileField"))
    index.install(schema_editor.connection)


def drop_index(apps, schema_editor):
    index.uninstall(schema_editor.connection)


class Migration(migrations.Migration):

    dependencies = [
        ("profiles", "0004_local_values_and_visibility"),
    ]

    operations = [
        migrations.AddField(
            model_name="profile",
            name="search_text",
            field=models.TextField(blank=True, db_default=""),
        ),
        migrations.AddField(
            model_name="profile",
            name="sort_name",
            field=models.CharField(blank=True, db_default="", max_length=255),
        ),
        migrations.AddIndex(
            model_name="profile",
            index=models.Index(fields=["sort_name", "id"], name="profiles_sort_name_idx"),
        ),
        migrations.AddIndex(
            model_name="profile",
            index=models.Index(fields=["active"], name="profiles_active_idx"),
        ),
        migrations.RunPython(department_as_select, migrations.RunPython.noop),
        migrations.RunPython(fill_and_index, drop_index),
    ]
