"""Schedules the daily approval reminders and escalation (``planning.approvals.schedules``)."""

import datetime as dt

from django.db import migrations
from django.utils import timezone

SCHEDULES = {
    "approvals-remind-due": "planning.approvals.schedules.approvals_remind_due",
    "approvals-escalate-due": "planning.approvals.schedules.approvals_escalate_due",
}


def schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    first = timezone.localdate() + dt.timedelta(days=1)
    next_run = timezone.make_aware(dt.datetime.combine(first, dt.time(7, 0)))
    for name, func in SCHEDULES.items():
        Schedule.objects.get_or_create(
            name=name, defaults={"func": func, "schedule_type": "D", "repeats": -1, "next_run": next_run}
        )


def unschedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("planning", "0005_default_approval_policy"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
