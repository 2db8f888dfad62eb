"""Reminders after N days and escalation after M days, counted from when a step became active."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import Schedule

from planning.approvals.schedules import approvals_escalate_due, approvals_remind_due
from planning.approvals.selectors import inbox, waiting_count
from planning.approvals.services import Outcome, approval_decide, approval_round_open
from planning.models import ApprovalTask, ReassignmentSettings
from routing.models import Notification
from tests.planning.approvals_helpers import make_org

pytestmark = pytest.mark.django_db
Status = ApprovalTask.Status


def _submitted(org):
    proposal = org.proposal(initiator=org.admin)
    proposal.submit()
    proposal.save()
    approval_round_open(reassignment=proposal, facts=org.facts(initiator_id=org.admin.pk), on=timezone.localdate())
    return proposal


def test_the_schedules_exist():
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert {
        "planning.approvals.schedules.approvals_remind_due",
        "planning.approvals.schedules.approvals_escalate_due",
    } <= funcs


def test_a_reminder_goes_once_after_the_reminder_days():
    org = make_org()
    proposal = _submitted(org)
    today = timezone.localdate()
    assert approvals_remind_due(today + dt.timedelta(days=1)) == 0  # default: after 2 days
    assert approvals_remind_due(today + dt.timedelta(days=2)) == 1
    assert Notification.objects.get().user == org.west_manager
    assert approvals_remind_due(today + dt.timedelta(days=3)) == 0  # once
    assert ApprovalTask.objects.get(approver=org.west_manager).reminded_at is not None
    assert proposal.title in Notification.objects.get().title


def test_the_next_step_waits_from_the_moment_it_became_active():
    org = make_org()
    proposal = _submitted(org)
    first = ApprovalTask.objects.get(approver=org.west_manager)
    ApprovalTask.objects.filter(reassignment=proposal).update(created_at=timezone.now() - dt.timedelta(days=10))
    approval_decide(reassignment=proposal, by=org.west_manager, decision="approve")
    assert first.pk
    # The incoming manager's step became active just now: nothing due yet.
    assert approvals_remind_due(timezone.localdate() + dt.timedelta(days=1)) == 0
    assert approvals_escalate_due(timezone.localdate() + dt.timedelta(days=1)) == 0


def test_escalation_hands_the_task_to_the_approvers_manager_who_can_then_approve():
    org = make_org()
    ReassignmentSettings.objects.update_or_create(pk=1, defaults={"escalation_days": 3})
    proposal = _submitted(org)
    later = timezone.localdate() + dt.timedelta(days=3)
    assert approvals_escalate_due(later) == 1
    old = ApprovalTask.objects.get(approver=org.west_manager)
    new = ApprovalTask.objects.get(approver=org.director)
    assert (old.status, old.escalated_at is not None) == (Status.SUPERSEDED, True)
    assert (new.status, new.delegated_from, new.step_order) == (Status.WAITING, org.west_manager, 1)
    assert waiting_count(org.director) == 1 and waiting_count(org.west_manager) == 0
    assert [i.reassignment for i in inbox(org.director)] == [proposal]
    assert Notification.objects.filter(user=org.director).exists()
    assert approvals_escalate_due(later) == 0  # the stand-in's task has just started waiting
    assert approval_decide(reassignment=proposal, by=org.director, decision="approve") == Outcome.PENDING
    assert waiting_count(org.east_manager) == 1
