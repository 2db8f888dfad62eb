"""The proposal's statuses are a state machine with a persisted transition log."""

from __future__ import annotations

import datetime as dt

import pytest
from django_fsm import TransitionNotAllowed
from django_fsm_log.models import StateLog

from planning.models import ApprovalPolicy, Reassignment
from salesos.models import SalesProfile
from tests.factories import make_plan, make_user

pytestmark = pytest.mark.django_db


def _proposal(**kw) -> Reassignment:
    manager = make_user(SalesProfile.Role.MANAGER)
    return Reassignment.objects.create(
        plan=make_plan(),
        kind=Reassignment.Kind.MOVE_ACCOUNTS,
        title="Move accounts",
        effective_date=dt.date(2027, 1, 4),
        initiator=manager,
        **kw,
    )


def test_every_transition_is_logged_with_who_and_why():
    proposal = _proposal()
    proposal.submit(by=proposal.initiator, description="Balance the West")
    proposal.save()
    log = StateLog.objects.for_(proposal).get()
    assert (log.source_state, log.state, log.by, log.description) == (
        "draft",
        "submitted",
        proposal.initiator,
        "Balance the West",
    )
    assert proposal.submitted_at is not None


def test_a_rejected_proposal_cannot_be_approved_or_resubmitted():
    proposal = _proposal()
    proposal.submit()
    proposal.reject()
    with pytest.raises(TransitionNotAllowed):
        proposal.approve()
    with pytest.raises(TransitionNotAllowed):
        proposal.submit()
    assert proposal.is_final


def test_the_status_is_written_only_through_transitions():
    proposal = _proposal()
    with pytest.raises(AttributeError):
        proposal.status = Reassignment.Status.DONE


def test_a_stale_proposal_goes_back_for_approval():
    proposal = _proposal()
    proposal.submit()
    proposal.approve()
    proposal.mark_stale(description="3 accounts changed territory since approval")
    assert proposal.is_editable
    proposal.submit()
    assert proposal.status == Reassignment.Status.SUBMITTED


def test_the_default_policy_has_both_managers_approve():
    policy = ApprovalPolicy.objects.get(subject="reassignment")
    assert [(s.order, s.relation, s.mode) for s in policy.steps.all()] == [
        (1, "outgoing_manager", "all"),
        (2, "incoming_manager", "all"),
    ]
