"""Schedules the daily coverage snapshot (``analytics.tasks.coverage_snapshot_daily``): the
coverage dashboard draws each count's trend from it."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

NAME = "analytics: daily coverage snapshot"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    first = timezone.localdate() + dt.timedelta(days=1)
    next_run = timezone.make_aware(dt.datetime.combine(first, dt.time(0, 20)))
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={"func": "analytics.tasks.coverage_snapshot_daily", "schedule_type": "D", "repeats": -1,
                  "next_run": next_run},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
