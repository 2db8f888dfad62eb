"""Schedules ``analytics.tasks.figures_refresh_due`` every 5 minutes: stored dashboard figures
older than ``ANALYTICS_FIGURES_MAX_AGE`` are rebuilt."""

from django.db import migrations
from django.utils import timezone

NAME = "analytics: refresh stored figures"


def schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.get_or_create(
        name=NAME,
        defaults={"func": "analytics.tasks.figures_refresh_due", "schedule_type": "I", "minutes": 5,
                  "repeats": -1, "next_run": timezone.now()},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0004_figures_build"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
