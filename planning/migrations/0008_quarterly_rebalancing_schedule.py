"""Schedules the quarterly rebalancing review (``planning.tasks.rebalance_quarterly``): the
optimiser runs over the active plan and the admins are told what it suggests."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

NAME = "planning: quarterly rebalancing review"


def schedule(apps, schema_editor):
    today = timezone.localdate()
    first = dt.date(today.year + (today.month == 12), today.month % 12 + 1, 1)
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={"func": "planning.tasks.rebalance_quarterly", "schedule_type": "Q", "repeats": -1,
                  "next_run": timezone.make_aware(dt.datetime.combine(first, dt.time(6, 0)))},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0007_daily_reassignments_schedule"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
