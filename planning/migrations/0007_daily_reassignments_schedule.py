"""Schedules the daily reassignment run (``planning.tasks.reassignments_daily``): proposals due
that day execute, ended transition windows close, due customer notices go out."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

NAME = "reassignments-daily"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    first = timezone.localdate() + dt.timedelta(days=1)
    next_run = timezone.make_aware(dt.datetime.combine(first, dt.time(0, 15)))
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={"func": "planning.tasks.reassignments_daily", "schedule_type": "D", "repeats": -1,
                  "next_run": next_run},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0006_approval_schedules"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
