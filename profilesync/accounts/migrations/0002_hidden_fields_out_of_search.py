"""Security fix (issue 13): a searchable field that no profile page shows is no longer
searched. The rule is in ``profiles.search.text.SearchFields``; this recomputes the
search texts stored before it, so the hidden field's words stop finding people at
once. It lives with the accounts' security changes; it only reads the profiles app's
tables through their historical models.
"""

from django.db import migrations

from profilesync.profiles.search.columns import refresh_search_columns


def drop_hidden_words(apps, schema_editor):
    ProfileField = apps.get_model("profiles", "ProfileField")
    if ProfileField.objects.filter(searchable=True, shown_in_profile=False).exists():
        refresh_search_columns(profile_model=apps.get_model("profiles", "Profile"),
                               field_model=ProfileField)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_directory_deactivation"),
        ("profiles", "0007_fewer_profile_indexes"),
    ]

    operations = [
        migrations.RunPython(drop_hidden_words, migrations.RunPython.noop),
    ]
