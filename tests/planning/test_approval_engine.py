"""Approval policies: which applies, who approves each step (relations, leave, own proposals,
fallbacks), and rounds of decisions (sequential steps, all-of / any-of, clear refusals)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from planning.approvals.errors import ApprovalError
from planning.approvals.resolve import policy_for, resolve_steps
from planning.approvals.services import (
    Outcome,
    approval_decide,
    approval_round_close,
    approval_round_open,
    waiting_approver_ids,
)
from planning.models import ApprovalPolicy, ApprovalPolicyStep, ApprovalTask, Reassignment, Subject
from planning.models.approvals import Subject as SubjectChoices
from tests.factories import make_leave, make_user
from tests.planning.approvals_helpers import Role, director_policy, make_org
from tests.planning.concurrent import at_the_same_moment, widen_the_round_window

ON = dt.date(2026, 12, 7)
Step = ApprovalPolicyStep
Status = ApprovalTask.Status


def _approvers(steps):
    return [(s.order, s.mode, [(a.user_id, a.delegated_from_id) for a in s.approvers]) for s in steps]


@pytest.mark.django_db
def test_the_default_policy_asks_the_outgoing_then_the_incoming_manager():
    org = make_org()
    facts = org.facts(initiator_id=org.admin.pk, initiator_role=Role.ADMIN)
    policy = policy_for(subject=Subject.REASSIGNMENT, facts=facts)
    assert policy.name == "Default: both managers approve"
    assert _approvers(resolve_steps(policy=policy, facts=facts, on=ON)) == [
        (1, "all", [(org.west_manager.pk, None)]),
        (2, "all", [(org.east_manager.pk, None)]),
    ]


@pytest.mark.django_db
def test_policies_are_tried_in_order_by_kind_and_condition():
    org = make_org()
    small = ApprovalPolicy.objects.create(
        name="Admins moving a few",
        order=1,
        kinds=["move_accounts"],
        condition={
            "all": [
                {"fact": "initiator_role", "op": "eq", "value": "admin"},
                {"fact": "moved_accounts", "op": "lt", "value": 10},
            ]
        },
    )
    merges = ApprovalPolicy.objects.create(name="Merges", order=2, kinds=["merge"])
    admin_few = org.facts(initiator_role=Role.ADMIN, moved_accounts=3)
    assert policy_for(subject=Subject.REASSIGNMENT, facts=admin_few) == small
    assert policy_for(subject=Subject.REASSIGNMENT, facts=org.facts(kind="merge")) == merges
    assert policy_for(subject=Subject.REASSIGNMENT, facts=org.facts()).name.startswith("Default")
    assert policy_for(subject=SubjectChoices.PLAN, facts=org.facts()) is None
    # A policy without steps: nothing to approve, the caller approves at once.
    proposal = org.proposal(initiator=org.admin)
    assert approval_round_open(reassignment=proposal, facts=admin_few, on=ON) == []
    proposal.refresh_from_db(fields=["policy"])
    assert proposal.policy == small


@pytest.mark.django_db
def test_the_director_step_applies_above_the_pipeline_threshold_and_finds_the_lowest_common_director():
    org = make_org()
    vp = make_user(Role.DIRECTOR)
    org.director.sales_profile.manager = vp
    org.director.sales_profile.save()
    policy = director_policy()
    big = resolve_steps(policy=policy, facts=org.facts(initiator_id=org.admin.pk), on=ON)
    assert [s.approvers[0].user_id for s in big] == [org.west_manager.pk, org.east_manager.pk, org.director.pk]
    small = resolve_steps(policy=policy, facts=org.facts(initiator_id=org.admin.pk, moved_pipeline=Decimal(1)), on=ON)
    assert len(small) == 2


@pytest.mark.django_db
def test_an_approver_on_leave_hands_the_step_to_their_manager():
    org = make_org()
    make_leave(org.east_manager, start=ON - dt.timedelta(days=1), days=10)
    steps = resolve_steps(policy=ApprovalPolicy.objects.get(), facts=org.facts(initiator_id=org.admin.pk), on=ON)
    assert _approvers(steps)[1] == (2, "all", [(org.director.pk, org.east_manager.pk)])
    # After the leave, the manager approves again.
    later = resolve_steps(
        policy=ApprovalPolicy.objects.get(), facts=org.facts(initiator_id=org.admin.pk), on=ON + dt.timedelta(days=30)
    )
    assert _approvers(later)[1] == (2, "all", [(org.east_manager.pk, None)])


@pytest.mark.django_db
def test_nobody_approves_their_own_proposal_the_initiators_manager_does():
    org = make_org()
    steps = resolve_steps(policy=ApprovalPolicy.objects.get(), facts=org.facts(), on=ON)  # west manager proposes
    assert _approvers(steps) == [
        (1, "all", [(org.director.pk, org.west_manager.pk)]),
        (2, "all", [(org.east_manager.pk, None)]),
    ]


@pytest.mark.django_db
def test_admins_approve_their_own_only_when_the_policy_allows_it():
    org = make_org()
    second_admin = make_user(Role.ADMIN)
    policy = ApprovalPolicy.objects.create(name="Ops", order=1)
    Step.objects.create(policy=policy, order=1, relation=Step.Relation.ANY_ADMIN)
    facts = org.facts(initiator_id=org.admin.pk, initiator_role=Role.ADMIN)
    assert _approvers(resolve_steps(policy=policy, facts=facts, on=ON)) == [(1, "any", [(second_admin.pk, None)])]
    policy.allow_admin_self_approval = True
    policy.save()
    assert _approvers(resolve_steps(policy=policy, facts=facts, on=ON)) == [
        (1, "any", [(org.admin.pk, None), (second_admin.pk, None)])
    ]


@pytest.mark.django_db
def test_a_step_with_nobody_goes_to_any_admin_and_with_no_admin_at_all_it_is_refused():
    org = make_org()
    org.east_rep.sales_profile.manager = None  # nobody manages the receiving side
    org.east_rep.sales_profile.save()
    steps = resolve_steps(policy=ApprovalPolicy.objects.get(), facts=org.facts(), on=ON)
    assert _approvers(steps)[1] == (2, "any", [(org.admin.pk, None)])
    org.admin.is_active = False
    org.admin.save()
    with pytest.raises(ApprovalError, match="no other sales ops admin"):
        resolve_steps(policy=ApprovalPolicy.objects.get(), facts=org.facts(), on=ON)


@pytest.mark.django_db
def test_a_move_inside_one_team_asks_its_manager_once():
    org = make_org()
    facts = org.facts(initiator_id=org.admin.pk, receiving_territory_ids=frozenset({org.west.pk}))
    assert _approvers(resolve_steps(policy=ApprovalPolicy.objects.get(), facts=facts, on=ON)) == [
        (1, "all", [(org.west_manager.pk, None)])
    ]


@pytest.mark.django_db
def test_steps_are_sequential_and_the_round_ends_approved():
    org = make_org()
    director_policy()
    proposal = org.proposal(initiator=org.admin)
    proposal.submit()
    proposal.save()
    tasks = approval_round_open(reassignment=proposal, facts=org.facts(initiator_id=org.admin.pk), on=ON)
    assert [(t.step_order, t.approver_id) for t in tasks] == [
        (1, org.west_manager.pk),
        (2, org.east_manager.pk),
        (3, org.director.pk),
    ]
    assert waiting_approver_ids(reassignment=proposal) == [org.west_manager.pk]
    with pytest.raises(ApprovalError, match="not your turn"):
        approval_decide(reassignment=proposal, by=org.director, decision="approve")
    with pytest.raises(ApprovalError, match="no approval waiting for you"):
        approval_decide(reassignment=proposal, by=org.west_rep, decision="approve")
    assert approval_decide(reassignment=proposal, by=org.west_manager, decision="approve", comment=" ok ") == "pending"
    with pytest.raises(ApprovalError, match="already decided"):
        approval_decide(reassignment=proposal, by=org.west_manager, decision="approve")
    assert approval_decide(reassignment=proposal, by=org.east_manager, decision="approve") == Outcome.PENDING
    assert approval_decide(reassignment=proposal, by=org.director, decision="approve") == Outcome.APPROVED
    assert ApprovalTask.objects.get(approver=org.west_manager).comment == "ok"
    assert set(ApprovalTask.objects.values_list("status", flat=True)) == {Status.APPROVED}


@pytest.mark.django_db
def test_any_of_step_completes_with_the_first_approval_and_a_rejection_ends_the_round():
    org = make_org()
    other_admin = make_user(Role.ADMIN)
    policy = ApprovalPolicy.objects.create(name="Ops then director", order=1)
    Step.objects.create(policy=policy, order=1, relation=Step.Relation.ANY_ADMIN)
    Step.objects.create(policy=policy, order=2, relation=Step.Relation.DIRECTOR)
    proposal = org.proposal()
    proposal.submit()
    proposal.save()
    approval_round_open(reassignment=proposal, facts=org.facts(), on=ON)
    assert approval_decide(reassignment=proposal, by=other_admin, decision="approve") == Outcome.PENDING
    with pytest.raises(ApprovalError, match="no longer needed"):
        approval_decide(reassignment=proposal, by=org.admin, decision="approve")
    assert approval_decide(reassignment=proposal, by=org.director, decision="reject", comment="No") == "rejected"
    assert dict(ApprovalTask.objects.values_list("approver_id", "status")) == {
        other_admin.pk: Status.APPROVED,
        org.admin.pk: Status.SUPERSEDED,
        org.director.pk: Status.REJECTED,
    }


@pytest.mark.django_db
def test_changes_requested_then_a_new_round_replaces_the_old_one():
    org = make_org()
    proposal = org.proposal(initiator=org.admin)
    proposal.submit()
    proposal.save()
    approval_round_open(reassignment=proposal, facts=org.facts(initiator_id=org.admin.pk), on=ON)
    outcome = approval_decide(reassignment=proposal, by=org.west_manager, decision="request_changes", comment="Why?")
    assert outcome == Outcome.CHANGES_REQUESTED
    assert waiting_approver_ids(reassignment=proposal) == []
    proposal.request_changes()
    proposal.submit()
    proposal.round = 2
    proposal.save()
    tasks = approval_round_open(reassignment=proposal, facts=org.facts(initiator_id=org.admin.pk), on=ON)
    assert {t.round for t in tasks} == {2}
    assert waiting_approver_ids(reassignment=proposal) == [org.west_manager.pk]
    assert ApprovalTask.objects.filter(round=1, status=Status.CHANGES_REQUESTED).count() == 1


@pytest.mark.django_db
def test_deciding_on_a_withdrawn_proposal_or_with_a_bad_decision_is_refused():
    org = make_org()
    proposal = org.proposal(initiator=org.admin)
    proposal.submit()
    proposal.save()
    approval_round_open(reassignment=proposal, facts=org.facts(initiator_id=org.admin.pk), on=ON)
    with pytest.raises(ApprovalError, match="Choose approve, reject or request changes"):
        approval_decide(reassignment=proposal, by=org.west_manager, decision="maybe")
    proposal.withdraw()
    proposal.save()
    assert approval_round_close(reassignment=proposal) == 2
    with pytest.raises(ApprovalError, match="withdrawn"):
        approval_decide(reassignment=proposal, by=org.west_manager, decision="approve")
    assert not ApprovalTask.objects.filter(status=Status.WAITING).exists()


@pytest.mark.django_db
def test_plans_under_review_use_the_same_engine():
    org = make_org()
    policy = ApprovalPolicy.objects.create(name="Plan sign-off", subject=SubjectChoices.PLAN)
    Step.objects.create(policy=policy, order=1, relation=Step.Relation.NAMED_USER, user=org.director)
    facts = org.facts(kind="plan", initiator_id=org.admin.pk)
    first = approval_round_open(plan=org.plan, facts=facts, on=ON)
    assert [(t.round, t.approver_id) for t in first] == [(1, org.director.pk)]
    assert approval_decide(plan=org.plan, by=org.director, decision="approve") == Outcome.APPROVED
    assert [t.round for t in approval_round_open(plan=org.plan, facts=facts, on=ON)] == [2]


@pytest.mark.django_db(transaction=True)
def test_two_approvers_acting_at_the_same_moment_are_serialised(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs two connections deciding at once with row locks: PostgreSQL")
    org = make_org()
    # One all-of step naming both managers (both territories give accounts).
    policy = ApprovalPolicy.objects.create(name="Both managers at once", order=1)
    Step.objects.create(policy=policy, order=1, relation=Step.Relation.OUTGOING_MANAGER, mode=Step.Mode.ALL)
    proposal = org.proposal(initiator=org.admin)
    proposal.submit()
    proposal.save()
    both = frozenset({org.west.pk, org.east.pk})
    facts = org.facts(initiator_id=org.admin.pk, giving_territory_ids=both, receiving_territory_ids=both)
    assert len(approval_round_open(reassignment=proposal, facts=facts, on=ON)) == 2
    widen_the_round_window(monkeypatch)
    outcomes = at_the_same_moment(
        (org.west_manager, org.east_manager),
        lambda user: approval_decide(
            reassignment=Reassignment.objects.get(pk=proposal.pk), by=user, decision="approve"
        ),
    )
    assert sorted(map(str, outcomes.values())) == ["approved", "pending"], outcomes
    assert set(ApprovalTask.objects.values_list("status", flat=True)) == {Status.APPROVED}
