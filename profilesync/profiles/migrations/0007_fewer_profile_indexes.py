"""Fewer indexes on profiles: every one is written for each row a sync copies or updates.

Dropped: the index on ``directory_id`` (the unique ``(directory_id, unique_id)`` index
begins with it and serves every query by directory) and, on PostgreSQL, the
``varchar_pattern_ops`` twins that ``db_index`` adds to ``username`` and
``display_name`` for ``LIKE 'prefix%'``, which no query runs (the people search has
its own columns and index). The plain indexes on those two stay, now declared in
``Meta.indexes``.

The old indexes are found by their column and dropped by name, not through
``AlterField``: on SQLite that would rebuild the whole table (and its search triggers)
for an index.
"""

import copy

from django.db import migrations, models

COLUMNS = {"directory": "directory_id", "username": "username", "display_name": "display_name"}


def drop_field_indexes(apps, schema_editor):
    """Drop the non-unique indexes on exactly one of ``COLUMNS`` (and their ``_like`` twins)."""
    profile = apps.get_model("profiles", "Profile")
    for column in COLUMNS.values():
        for name in schema_editor._constraint_names(profile, [column], index=True, unique=False,
                                                    primary_key=False):
            schema_editor.execute(schema_editor._delete_index_sql(profile, name))


def restore_field_indexes(apps, schema_editor):
    """Create the indexes ``db_index=True`` made (on PostgreSQL with their ``_like`` twins)."""
    profile = apps.get_model("profiles", "Profile")
    for name in COLUMNS:
        field = profile._meta.get_field(name)
        schema_editor.execute(schema_editor._create_index_sql(profile, fields=[field]))
        if not field.is_relation and hasattr(schema_editor, "_create_like_index_sql"):
            indexed = copy.copy(field)
            indexed.db_index = True
            like = schema_editor._create_like_index_sql(profile, indexed)
            if like is not None:
                schema_editor.execute(like)


class Migration(migrations.Migration):

    dependencies = [
        ("profiles", "0006_stored_pictures"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="profile",
                    name="directory",
                    field=models.ForeignKey(db_index=False, on_delete=models.deletion.PROTECT,
                                            related_name="profiles",
                                            to="directories.directory"),
                ),
                migrations.AlterField(
                    model_name="profile",
                    name="username",
                    field=models.CharField(max_length=255),
                ),
                migrations.AlterField(
                    model_name="profile",
                    name="display_name",
                    field=models.CharField(blank=True, max_length=255),
                ),
            ],
            database_operations=[
                migrations.RunPython(drop_field_indexes, restore_field_indexes),
            ],
        ),
        migrations.AddIndex(
            model_name="profile",
            index=models.Index(fields=["username"], name="profiles_username_idx"),
        ),
        migrations.AddIndex(
            model_name="profile",
            index=models.Index(fields=["display_name"], name="profiles_display_name_idx"),
        ),
    ]
