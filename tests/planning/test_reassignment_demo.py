"""Impact equals execution on the demo company: what the snapshot says moves is exactly what the
execution moves, account by account, and every deal ends with the owner the impact named."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from planning import demo
from planning.models import ApprovalPolicy, Reassignment
from planning.reassignments.impact import reassignment_impact
from planning.reassignments.services import reassignment_execute, reassignment_propose, reassignment_submit
from routing import services as routing_services
from salesos.models import GeoArea, Industry, Opportunity
from territories.models import AccountTerritory, Territory, TerritoryPlan
from tests import factories

N = 800


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        had_reference = GeoArea.objects.filter(level=GeoArea.Level.POSTAL).exists()
        if demo.demo_data_exists():
            demo.reset_demo_data()
        demo.seed_demo(accounts=N, seed=5, anchor=dt.date(2026, 5, 15))
    yield
    with django_db_blocker.unblock():
        demo.reset_demo_data()
        if not had_reference:
            GeoArea.objects.all()._raw_delete(GeoArea.objects.db)
            Industry.objects.all()._raw_delete(Industry.objects.db)


@pytest.fixture
def world(seeded, db):
    routing_services._indexes.clear()
    ApprovalPolicy.objects.create(name="Tests: no approval", order=0)  # submit approves at once
    admin = factories.make_user("admin")
    return TerritoryPlan.active(), admin


def _primaries(plan) -> dict[int, int]:
    return dict(AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True)
                .values_list("account_id", "territory_id"))


def _run(proposal: Reassignment) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    impact = reassignment_impact(reassignment=proposal)
    before = _primaries(proposal.plan)
    proposal = reassignment_submit(by=proposal.initiator, reassignment=proposal)
    assert proposal.status == Reassignment.Status.SCHEDULED
    assert reassignment_execute(reassignment_id=proposal.pk, today=tomorrow).outcome == "executed"
    after = _primaries(proposal.plan)
    moved = {a for a in set(before) | set(after) if before.get(a) != after.get(a)}
    assert moved == set(impact.account_ids.tolist())
    new_ids = {t for t in impact.to_ids.tolist() if t < 0}
    for a, t in zip(impact.account_ids.tolist(), impact.to_ids.tolist(), strict=True):
        if t > 0:
            assert after.get(a) == t
        elif new_ids:
            assert Territory.objects.get(pk=after[a]).code == proposal.change["code"]
    owners = dict(Opportunity.objects.filter(pk__in=[d.id for d in impact.deals]).values_list("pk", "owner_id"))
    assert owners == {d.id: d.new_owner_id for d in impact.deals}


def test_moving_accounts_on_the_demo(world):
    plan, admin = world
    rows = AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True)
    busiest = rows.values_list("territory_id", flat=True).order_by("territory_id")
    source = max(set(busiest), key=list(busiest).count)
    target = Territory.objects.filter(plan=plan, is_overlay=False, status="active").exclude(pk=source).exclude(
        children__isnull=False).first()
    accounts = list(rows.filter(territory_id=source).values_list("account_id", flat=True)[:40])
    proposal = reassignment_propose(by=admin, plan=plan, kind="move_accounts", effective_date=timezone.localdate()
                                    + dt.timedelta(days=1), change={"accounts": accounts, "to_territory": target.pk},
                                    deal_policy="stage_based", deal_stage="proposal")
    _run(proposal)


def test_a_rule_change_on_the_demo(world):
    plan, admin = world
    territory = Territory.objects.filter(plan=plan, is_overlay=False, status="active", parent__isnull=False).exclude(
        rule={}).order_by("code").first()
    proposal = reassignment_propose(by=admin, plan=plan, kind="rule_change", effective_date=timezone.localdate()
                                    + dt.timedelta(days=1),
                                    change={"territory": territory.pk, "rule": {"field": "employees", "op": "gte",
                                                                                "value": 10**9}},
                                    deal_policy="follow_territory")
    assert reassignment_impact(reassignment=proposal).moved_accounts > 0
    _run(proposal)
