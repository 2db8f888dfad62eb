"""A small org for the approval tests: two teams under one director, one territory each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from planning.approvals.resolve import ApprovalFacts
from planning.models import ApprovalPolicy, ApprovalPolicyStep, Reassignment
from salesos.models import SalesProfile
from tests.factories import assign, make_plan, make_territory, make_user

Role = SalesProfile.Role


@dataclass
class Org:
    admin: object
    director: object
    west_manager: object
    east_manager: object
    west_rep: object
    east_rep: object
    west: object
    east: object
    plan: object

    def facts(self, **kw) -> ApprovalFacts:
        base = ApprovalFacts(
            kind=Reassignment.Kind.MOVE_ACCOUNTS,
            initiator_id=self.west_manager.pk,
            initiator_role=Role.MANAGER,
            giving_territory_ids=frozenset({self.west.pk}),
            receiving_territory_ids=frozenset({self.east.pk}),
            moved_accounts=40,
            moved_deals=12,
            moved_pipeline=Decimal("300000"),
        )
        return replace(base, **kw)

    def proposal(self, *, initiator=None, round: int = 1) -> Reassignment:
        return Reassignment.objects.create(
            plan=self.plan,
            kind=Reassignment.Kind.MOVE_ACCOUNTS,
            title="Move 40 accounts West to East",
            effective_date=dt.date(2027, 1, 4),
            initiator=initiator or self.west_manager,
            round=round,
        )


def make_org() -> Org:
    admin = make_user(Role.ADMIN)
    director = make_user(Role.DIRECTOR)
    west_manager = make_user(Role.MANAGER, manager=director)
    east_manager = make_user(Role.MANAGER, manager=director)
    west_rep = make_user(Role.REP, manager=west_manager)
    east_rep = make_user(Role.REP, manager=east_manager)
    plan = make_plan()
    west = make_territory(plan, code="WEST")
    east = make_territory(plan, code="EAST")
    start = dt.date(2026, 2, 1)
    assign(west, west_rep, start_date=start)
    assign(east, east_rep, start_date=start)
    return Org(admin, director, west_manager, east_manager, west_rep, east_rep, west, east, plan)


def director_policy(threshold: int = 250000) -> ApprovalPolicy:
    """Both managers, then the director when more than ``threshold`` of pipeline moves."""
    policy = ApprovalPolicy.objects.create(name="Managers then director", order=10)
    Step = ApprovalPolicyStep
    Step.objects.create(policy=policy, order=1, relation=Step.Relation.OUTGOING_MANAGER)
    Step.objects.create(policy=policy, order=2, relation=Step.Relation.INCOMING_MANAGER)
    Step.objects.create(
        policy=policy,
        order=3,
        relation=Step.Relation.DIRECTOR,
        condition={"fact": "moved_pipeline", "op": "gt", "value": threshold},
    )
    return policy
