"""Schedules the daily coverage refresh (``territories.tasks.coverage_daily_refresh``): grants
follow the assignments in force on each day, so the worker resynchronises them every night.

It replaces routing's "daily account owner refresh" schedule, whose function
(``routing.tasks.accounts_owner_refresh_daily``) no longer exists: owners are computed on read."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

NAME = "coverage-daily-refresh"
STALE = "routing: daily account owner refresh"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(name=STALE, func="routing.tasks.accounts_owner_refresh_daily").delete()
    first = timezone.localdate() + dt.timedelta(days=1)
    next_run = timezone.make_aware(dt.datetime.combine(first, dt.time(0, 5)))
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={"func": "territories.tasks.coverage_daily_refresh", "schedule_type": "D", "repeats": -1,
                  "next_run": next_run},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("territories", "0001_initial"),
        ("routing", "0005_daily_owner_refresh_schedule"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
