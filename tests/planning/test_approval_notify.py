"""Reassignment notifications: the bell and an email for everyone concerned, on commit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from planning.approvals.services import approval_decide, approval_round_open
from planning.models import ReassignmentMove
from planning.notify import reassignment_notify
from routing.models import Notification
from tests.factories import make_account
from tests.planning.approvals_helpers import make_org

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 12, 7)


def _submitted(org):
    proposal = org.proposal(initiator=org.admin)
    proposal.reason = "Balance the coasts"
    proposal.submit()
    proposal.save()
    account = make_account(territory=org.west)
    ReassignmentMove.objects.create(
        reassignment=proposal, account=account, from_territory=org.west, to_territory=org.east
    )
    approval_round_open(reassignment=proposal, facts=org.facts(initiator_id=org.admin.pk), on=ON)
    return proposal


def _titles():
    return {n.user.username: n.title for n in Notification.objects.select_related("user")}


def test_submitted_tells_both_sides_their_managers_and_asks_the_approver(django_capture_on_commit_callbacks):
    org = make_org()
    proposal = _submitted(org)
    with django_capture_on_commit_callbacks(execute=True):
        reassignment_notify(event="submitted", reassignment=proposal, actor=org.admin)
    titles = _titles()
    title = proposal.title
    assert titles == {
        org.west_manager.username: f"Your approval is needed: {title}",
        org.west_rep.username: f"Proposed: {title}",
        org.east_rep.username: f"Proposed: {title}",
        org.east_manager.username: f"Proposed: {title}",  # not their turn yet
    }
    assert org.admin.username not in titles  # the actor
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"{u}@example.com" for u in titles)
    body = mail.outbox[0].body
    assert "Reason: Balance the coasts" in body and "effective 04 Jan 2027" in body


def test_a_decision_carries_its_comment_and_the_next_approver_is_asked():
    org = make_org()
    proposal = _submitted(org)
    approval_decide(reassignment=proposal, by=org.west_manager, decision="approve", comment="Fine by West")
    reassignment_notify(event="decided", reassignment=proposal, actor=org.west_manager)
    east = Notification.objects.get(user=org.east_manager)
    assert east.title == f"Your approval is needed: {proposal.title}"
    assert "“Fine by West”" in east.body
    assert Notification.objects.get(user=org.admin).title.startswith(org.west_manager.get_full_name())


def test_reminders_go_to_the_waiting_approvers_only():
    org = make_org()
    proposal = _submitted(org)
    reassignment_notify(event="reminder", reassignment=proposal)
    assert _titles() == {org.west_manager.username: f"Reminder: your approval is waiting: {proposal.title}"}


def test_mail_is_not_sent_when_the_transaction_rolls_back(django_capture_on_commit_callbacks):
    org = make_org()
    proposal = _submitted(org)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reassignment_notify(event="rejected", reassignment=proposal, actor=org.east_manager)
    assert len(callbacks) == 1 and mail.outbox == []


def test_an_unknown_event_is_a_programming_error():
    org = make_org()
    with pytest.raises(ValueError, match="unknown reassignment event"):
        reassignment_notify(event="teleported", reassignment=org.proposal())
