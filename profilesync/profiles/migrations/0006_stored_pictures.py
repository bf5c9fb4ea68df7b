"""Pictures in the database (``StoredPicture``), written by the sync with a page's rows.

Pictures stored before this migration stay files in the media storage under the same
names; ``profiles.pictures.picture_bytes`` reads those too, so nothing is copied here.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("profiles", "0005_people_search"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoredPicture",
            fields=[
                ("name", models.CharField(max_length=255, primary_key=True, serialize=False)),
                ("data", models.BinaryField()),
            ],
        ),
    ]
