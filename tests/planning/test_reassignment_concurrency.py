"""Two approvers deciding on one proposal at the same moment (PostgreSQL row locks)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone
from django_fsm_log.models import StateLog

from planning.models import ApprovalPolicy, ApprovalPolicyStep, ApprovalTask, Reassignment
from planning.reassignments.services import reassignment_decide, reassignment_propose, reassignment_submit
from tests.factories import make_account
from tests.planning.concurrent import at_the_same_moment, widen_the_round_window
from tests.planning.reassign_helpers import build_org

Step = ApprovalPolicyStep


@pytest.mark.django_db(transaction=True)
def test_two_approvers_at_once_approve_and_schedule_exactly_once(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs two connections deciding at once with row locks: PostgreSQL")
    org = build_org(accounts=2)
    east_account = make_account(territory=org.east, name="East 0")
    # One all-of step: the managers of both giving territories (West and East give to the root).
    policy = ApprovalPolicy.objects.create(name="Both giving managers at once", order=1)
    Step.objects.create(policy=policy, order=1, relation=Step.Relation.OUTGOING_MANAGER, mode=Step.Mode.ALL)
    proposal = reassignment_propose(
        by=org.director, plan=org.plan, kind="move_accounts", effective_date=timezone.localdate(),
        change={"accounts": [org.accounts[0].pk, east_account.pk], "to_territory": org.root.pk})
    proposal = reassignment_submit(by=org.director, reassignment=proposal)
    assert ApprovalTask.objects.filter(reassignment=proposal, status="waiting").count() == 2
    widen_the_round_window(monkeypatch)
    outcomes = at_the_same_moment(
        (org.west_manager, org.east_manager),
        lambda user: reassignment_decide(
            by=user, reassignment=Reassignment.objects.get(pk=proposal.pk), decision="approve"
        ).status,
    )
    # The one who came second saw the first's approval and approved the proposal; the proposal
    # (effective today) then executed right after commit.
    assert sorted(map(str, outcomes.values())) == ["scheduled", "submitted"], outcomes
    done = Reassignment.objects.get(pk=proposal.pk)
    states = list(StateLog.objects.for_(done).values_list("state", flat=True))
    assert states.count("approved") == 1 and states.count("scheduled") == 1
    assert set(ApprovalTask.objects.filter(reassignment=proposal).values_list("status", flat=True)) == {"approved"}
