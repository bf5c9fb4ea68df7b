# The run that resumed after a takeover and rolled back at its fencing check.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("scheduling", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="interruptedrun",
            name="superseded_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
