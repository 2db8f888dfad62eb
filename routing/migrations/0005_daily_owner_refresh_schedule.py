"""Schedules the daily owner refresh: while a primary is on leave the backup owns the accounts."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

NAME = "routing: daily account owner refresh"


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    next_run = dt.datetime.combine(tomorrow, dt.time(1, 0), tzinfo=dt.UTC)
    Schedule.objects.get_or_create(
        name=NAME,
        defaults={
            "func": "routing.tasks.accounts_owner_refresh_daily",
            "schedule_type": "D",
            "repeats": -1,
            "next_run": next_run,
        },
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0004_integrationtoken_notification_routingjob_and_more"),
        ("django_q", "0018_task_success_index"),
    ]
    operations = [migrations.RunPython(schedule, unschedule)]
