"""Reminders and escalation, run daily by django-q2 (``planning/migrations/0006_approval_schedules``).

A task's waiting time counts from when its step became active (the last decision of the step
before it, or the round's opening). After ``ReassignmentSettings.reminder_days`` its approvers
get one reminder; after ``escalation_days`` the task passes to the approver's manager (the first
one above who is available and not the initiator; an admin when there is none): the original task
is closed as "no longer needed" with ``escalated_at`` set, and a new one names the stand-in with
``delegated_from``, so an all-of step still needs one approval in that place."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from planning.approvals.resolve import stand_in_for
from planning.approvals.selectors import _active_waiting
from planning.models import ApprovalTask, Reassignment, ReassignmentSettings
from planning.notify import reassignment_notify

Status = ApprovalTask.Status


def _waiting_since(tasks: list[ApprovalTask]) -> dict[int, dt.datetime]:
    """task id -> when its step became active."""
    keys = {(t.reassignment_id, t.round) for t in tasks}
    decided: dict[tuple[int | None, int, int], dt.datetime] = {}
    earlier = ApprovalTask.objects.filter(
        reassignment_id__in={k[0] for k in keys}, decided_at__isnull=False
    ).values_list("reassignment_id", "round", "step_order", "decided_at")
    for reassignment_id, round_number, step_order, decided_at in earlier:
        if decided_at is None:
            continue
        key = (reassignment_id, round_number, step_order)
        decided[key] = max(decided.get(key, decided_at), decided_at)
    since: dict[int, dt.datetime] = {}
    for task in tasks:
        before = [
            at
            for (r, n, s), at in decided.items()
            if r == task.reassignment_id and n == task.round and s < task.step_order
        ]
        since[task.pk] = max([task.created_at, *before])
    return since


def _due(today: dt.date, days: int, flag: str) -> dict[int, list[ApprovalTask]]:
    """Active waiting tasks waiting ``days`` or more by ``today`` and not yet ``flag``-ged, by proposal."""
    tasks = list(_active_waiting(ApprovalTask.objects.filter(**{f"{flag}__isnull": True})).order_by("pk"))
    since = _waiting_since(tasks)
    due: dict[int, list[ApprovalTask]] = defaultdict(list)
    for task in tasks:
        if task.reassignment_id is not None and (today - timezone.localdate(since[task.pk])).days >= days:
            due[task.reassignment_id].append(task)
    return due


def approvals_remind_due(today: dt.date | None = None) -> int:
    """Reminds the approvers of every step waiting ``reminder_days`` or more (once per task).
    Returns the number of tasks reminded."""
    today = today or timezone.localdate()
    settings = ReassignmentSettings.load()
    if not settings.reminder_days:
        return 0
    reminded = 0
    for reassignment_id, tasks in _due(today, settings.reminder_days, "reminded_at").items():
        with transaction.atomic():
            reassignment = Reassignment.objects.select_for_update().get(pk=reassignment_id)
            reminded += ApprovalTask.objects.filter(
                pk__in=[t.pk for t in tasks], status=Status.WAITING, reminded_at__isnull=True
            ).update(reminded_at=timezone.now())
            reassignment_notify(event="reminder", reassignment=reassignment)
    return reminded


def approvals_escalate_due(today: dt.date | None = None) -> int:
    """Passes every task waiting ``escalation_days`` or more to the approver's stand-in (see the
    module docstring). Returns the number of tasks escalated."""
    today = today or timezone.localdate()
    settings = ReassignmentSettings.load()
    if not settings.escalation_days:
        return 0
    escalated = 0
    for reassignment_id, tasks in _due(today, settings.escalation_days, "escalated_at").items():
        with transaction.atomic():
            reassignment = Reassignment.objects.select_for_update().get(pk=reassignment_id)
            moved = 0
            for task in ApprovalTask.objects.select_for_update().filter(
                pk__in=[t.pk for t in tasks], status=Status.WAITING, escalated_at__isnull=True
            ):
                in_step = ApprovalTask.objects.filter(
                    reassignment_id=reassignment_id, round=task.round, step_order=task.step_order
                ).values_list("approver_id", flat=True)
                stand_in = stand_in_for(
                    task.approver_id, initiator_id=reassignment.initiator_id, on=today, exclude=list(in_step)
                )
                now = timezone.now()
                if stand_in is None:
                    continue
                task.status, task.decided_at, task.escalated_at = Status.SUPERSEDED, now, now
                task.comment = "Escalated: no decision in time"
                task.save(update_fields=["status", "decided_at", "escalated_at", "comment"])
                ApprovalTask.objects.create(
                    reassignment_id=reassignment_id,
                    policy_id=task.policy_id,
                    round=task.round,
                    step_order=task.step_order,
                    step_name=task.step_name,
                    mode=task.mode,
                    approver_id=stand_in,
                    delegated_from_id=task.approver_id,
                    created_at=now,
                )
                moved += 1
            if moved:
                reassignment_notify(event="escalated", reassignment=reassignment)
            escalated += moved
    return escalated
