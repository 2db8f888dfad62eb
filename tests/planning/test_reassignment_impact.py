"""The impact of a proposal: the moves from the placement and the engine's dry run, deals under
the policy, activities following them, per-territory figures that add up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from planning.reassignments.impact import NEW_TERRITORY, reassignment_impact
from planning.reassignments.services import reassignment_propose
from salesos.models import STAGE_ORDER
from tests.factories import assign, make_leave, make_user
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db


def _soon() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=7)


def test_moving_accounts_under_the_stage_policy():
    org = build_org(accounts=6)
    moved = org.accounts[:4]
    proposal = reassignment_propose(
        by=org.director, plan=org.plan, kind="move_accounts", effective_date=_soon(),
        change={"accounts": [a.pk for a in moved], "to_territory": org.east.pk},
        deal_policy="stage_based", deal_stage="discovery")
    impact = reassignment_impact(reassignment=proposal)
    assert impact.account_ids.tolist() == sorted(a.pk for a in moved)
    assert set(impact.from_ids.tolist()) == {org.west.pk}
    deals = {d.id: d for d in impact.deals}
    for deal in org.deals[:4]:
        early = STAGE_ORDER[deal.stage] < STAGE_ORDER["discovery"]
        assert deals[deal.pk].moves is early
        assert deals[deal.pk].new_owner_id == (org.east_rep.pk if early else org.west_rep.pk)
    moving = [d for d in org.deals[:4] if STAGE_ORDER[d.stage] < STAGE_ORDER["discovery"]]
    assert impact.moved_pipeline == sum((d.amount for d in moving), Decimal(0))
    # Pending activities: the four accounts' meetings (no deal) follow the account; calls follow
    # their deal when it moves. The past activity is not pending.
    assert (impact.activities_pending, impact.activities_moving) == (8, 4 + len(moving))
    snapshot = impact.to_json()
    assert snapshot["pairs"] == [{"from": {"id": org.west.pk, "code": "WEST", "name": "West"},
                                  "to": {"id": org.east.pk, "code": "EAST", "name": "East"}, "accounts": 4}]
    rows = {row["code"]: row for row in snapshot["territories"]}
    assert rows["WEST"]["accounts"] == [6, 2] and rows["EAST"]["accounts"] == [0, 4]
    assert Decimal(rows["WEST"]["pipeline"][0]) - Decimal(rows["WEST"]["pipeline"][1]) == Decimal(
        rows["EAST"]["pipeline"][1]) - Decimal(rows["EAST"]["pipeline"][0])
    assert rows["EAST"]["tam"][1] == "10000.00"  # potentials 1000 + 2000 + 3000 + 4000
    assert sum(s["count"] for s in snapshot["deals"]["by_stage"]) == 4
    facts = impact.facts
    assert (facts.moved_accounts, facts.moved_deals, facts.giving_territory_ids, facts.receiving_territory_ids) == (
        4, len(moving), frozenset({org.west.pk}), frozenset({org.east.pk}))
    assert facts.initiator_role == "director"
    # The hash covers where the accounts sit and the deals' owner/stage/amount.
    again = reassignment_impact(reassignment=proposal)
    assert again.covered_hash() == impact.covered_hash()
    org.deals[0].amount += 1
    org.deals[0].save()
    assert reassignment_impact(reassignment=proposal).covered_hash() != impact.covered_hash()


def test_a_rule_change_is_the_engines_dry_run():
    org = build_org(accounts=3)
    org.accounts[1].state = "US-NY"
    org.accounts[1].save()
    proposal = reassignment_propose(
        by=org.director, plan=org.plan, kind="rule_change", effective_date=_soon(),
        change={"territory": org.east.pk, "rule": {"field": "state", "op": "in", "value": ["US-NY"]}})
    impact = reassignment_impact(reassignment=proposal)
    # The West account placed by hand stays unless a rule claims it: only the New York one moves.
    assert impact.account_ids.tolist() == [org.accounts[1].pk]
    assert impact.to_ids.tolist() == [org.east.pk]


def test_a_carve_moves_to_the_new_territory_and_a_primary_change_moves_deals():
    org = build_org(accounts=2)
    carve = reassignment_propose(
        by=org.director, plan=org.plan, kind="carve", effective_date=_soon(),
        change={"parent": org.root.pk, "code": "CA", "name": "California", "type": "geographic",
                "rule": {"field": "state", "op": "eq", "value": "US-CA"}, "primary_user": org.east_rep.pk})
    impact = reassignment_impact(reassignment=carve)
    assert sorted(impact.account_ids.tolist()) == sorted(a.pk for a in org.accounts)
    assert set(impact.to_ids.tolist()) == {NEW_TERRITORY}
    assert all(d.new_owner_id == org.east_rep.pk for d in impact.deals)

    slot = reassignment_propose(
        by=org.director, plan=org.plan, kind="slot_change", effective_date=_soon(),
        change={"territory": org.west.pk, "slot": "primary", "from_user": org.west_rep.pk,
                "to_user": org.east_rep.pk}, deal_policy="follow_rep")
    impact = reassignment_impact(reassignment=slot)
    assert impact.moved_accounts == 0 and len(impact.deals) == 2 and not impact.moving_deals
    west = next(r for r in impact.to_json()["territories"] if r["code"] == "WEST")
    assert west["accounts"] == [2, 2] and west["owner"][0] != west["owner"][1]


def test_rep_rows_count_only_what_the_proposal_moves_even_when_a_leave_changes_the_owner():
    """West's rep is on leave today (their backup covers) and back by the effective date: the
    backup's cover ending is not the proposal's doing, so the rep rows show West's rep giving the
    4 moved accounts and East's rep taking them, and the backup nothing (not -9/+9)."""
    org = build_org(accounts=9)
    cover = make_user("rep", manager=org.west_manager)
    assign(org.west, cover, slot="backup", start_date=dt.date(2026, 1, 1))
    make_leave(org.west_rep, start=timezone.localdate(), days=2)
    proposal = reassignment_propose(
        by=org.director, plan=org.plan, kind="move_accounts", effective_date=_soon(),
        change={"accounts": [a.pk for a in org.accounts[:4]], "to_territory": org.east.pk},
        deal_policy="follow_rep")
    snapshot = reassignment_impact(reassignment=proposal).to_json()
    west = next(r for r in snapshot["territories"] if r["code"] == "WEST")
    assert west["accounts"] == [9, 5]
    reps = {r["id"]: r["accounts"] for r in snapshot["reps"]}
    assert reps == {org.west_rep.pk: -4, org.east_rep.pk: 4}

    # A rep change hands the whole territory over: all 9 from the outgoing rep to the incoming.
    slot = reassignment_propose(
        by=org.director, plan=org.plan, kind="slot_change", effective_date=_soon(),
        change={"territory": org.west.pk, "slot": "primary", "from_user": org.west_rep.pk, "to_user": cover.pk},
        deal_policy="follow_rep")
    reps = {r["id"]: r["accounts"] for r in reassignment_impact(reassignment=slot).to_json()["reps"]}
    assert reps == {org.west_rep.pk: -9, cover.pk: 9}
