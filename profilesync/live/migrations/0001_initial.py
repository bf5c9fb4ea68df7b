# Live updates: each directory's live setting and its listener's state.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("directories", "0002_guard_window_and_page_size_limit"),
    ]

    operations = [
        migrations.CreateModel(
            name="LiveListener",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("live", models.BooleanField(blank=True, default=None, null=True)),
                ("poll_seconds", models.FloatField(default=10)),
                ("state", models.CharField(choices=[("connected", "Connected"),
                                                    ("polling", "Polling"), ("off", "Off"),
                                                    ("reconnecting", "Reconnecting")],
                                           default="off", max_length=16)),
                ("since", models.DateTimeField(blank=True, null=True)),
                ("method", models.CharField(blank=True, max_length=64)),
                ("holder", models.CharField(blank=True, max_length=200)),
                ("last_change_at", models.DateTimeField(blank=True, null=True)),
                ("changes_applied", models.PositiveBigIntegerField(default=0)),
                ("message", models.TextField(blank=True)),
                ("directory", models.OneToOneField(
                    on_delete=django.db.models.deletion.CASCADE, related_name="live_listener",
                    to="directories.directory")),
            ],
        ),
    ]
