"""Activation: on its day, in one transaction, the old plan is archived and the new one active;
each account's old row ends where its new row starts (the start of the day); locks follow the
accounts; open deals follow the open-deal policy; everyone concerned is told. Re-activation of the
previous plan within the grace period works the same way. Refusals change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django_fsm_log.models import StateLog

from planning.models import DealOwnerChange, ReassignmentSettings, Simulation
from planning.models.reassignments import DealPolicy
from planning.plans import services
from planning.plans.activate import day_start, plan_activate, plans_activate_due
from planning.plans.errors import PlanError
from routing.models import Notification
from salesos.models import Opportunity
from territories import services as territory_services
from territories.models import AccountLock, AccountTerritory, Territory, TerritoryPlan
from tests import factories
from tests.planning.plan_helpers import company, primaries, today
from tests.planning.sim_helpers import simulate

Status = TerritoryPlan.Status
OREGON_EAST = {"all": [{"field": "state", "op": "in", "value": ["US-NY", "US-MA", "US-OR"]}]}
WEST_ONLY_CA = {"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]}


@pytest.fixture
def world(db):
    world = company()
    admin, draft = world["admin"], world["draft"]
    territory_services.territory_update_rule(territory=Territory.objects.get(plan=draft, code="EAST"),
                                             rule=OREGON_EAST, by=admin)
    territory_services.territory_update_rule(territory=Territory.objects.get(plan=draft, code="WEST"),
                                             rule=WEST_ONLY_CA, by=admin)
    services.plan_submit(plan=draft, by=admin)
    services.plan_decide(plan=draft, by=admin, decision="approve")
    return world


def test_the_daily_run_activates_on_the_day_in_one_swap(world):
    admin, old, new = world["admin"], world["plan"], world["draft"]
    oregon = world["accounts"][2]
    deal = factories.make_opportunity(oregon, owner=world["west_rep"])
    late = factories.make_opportunity(world["accounts"][0], owner=world["west_rep"])
    tomorrow = today() + dt.timedelta(days=1)
    services.plan_schedule(plan=new, on=tomorrow, by=admin)
    assert plans_activate_due(today=today()) == []  # not yet
    done = plans_activate_due(today=tomorrow)
    assert [a.plan_id for a in done] == [new.pk] and done[0].moved == 1
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.status, new.status) == (Status.ARCHIVED, Status.ACTIVE) and TerritoryPlan.active() == new
    assert new.effective_date == tomorrow and new.activation_date is None
    assert primaries(new) == {a.pk: code for a, code in zip(world["accounts"],
                                                            ["WEST", "WEST", "EAST", "EAST", "EAST"], strict=True)}
    assert primaries(old) == {}
    start = day_start(tomorrow)
    old_rows = AccountTerritory.objects.filter(plan=old, is_primary=True)
    assert old_rows.count() == 5 and {r.valid_to for r in old_rows} == {start}
    assert {r.valid_from for r in AccountTerritory.objects.filter(plan=new)} == {start}
    deal.refresh_from_db()
    late.refresh_from_db()
    assert deal.owner == world["east_rep"] and deal.territory.plan_id == new.pk
    assert late.owner == world["west_rep"]  # its account stays in WEST
    assert DealOwnerChange.objects.get(opportunity=deal).to_user == world["east_rep"]
    told = set(Notification.objects.filter(title__contains="FY27 draft is the active").values_list("user", flat=True))
    assert {world["west_rep"].pk, world["east_rep"].pk, admin.pk} <= told
    assert StateLog.objects.for_(old).last().state == "archived"


def test_locks_follow_the_accounts_into_the_new_plan(world):
    admin, old, new = world["admin"], world["plan"], world["draft"]
    oregon = world["accounts"][2]
    factories.lock(oregon, Territory.objects.get(plan=old, code="WEST"))
    plan_activate(plan=new, on=today() + dt.timedelta(days=1), by=admin)
    oregon.refresh_from_db()
    assert factories.lock_of(oregon) == Territory.objects.get(plan=new, code="WEST").pk
    assert primaries(new)[oregon.pk] == "WEST"


def test_refusals_change_nothing(world):
    admin, old, new = world["admin"], world["plan"], world["draft"]
    before = sorted(AccountTerritory.objects.values_list("pk", "valid_to"))
    with pytest.raises(PlanError, match="before FY27 draft was approved"):
        plan_activate(plan=new, on=today() - dt.timedelta(days=1), by=admin)
    other = factories.make_plan(name="Loose draft", status=Status.DRAFT)
    with pytest.raises(PlanError, match="only a staged plan"):
        plan_activate(plan=other, on=today() + dt.timedelta(days=1), by=admin)
    east = Territory.objects.get(plan=new, code="EAST")
    Territory.objects.filter(pk=east.pk).update(rule={"all": [{"field": "shoe_size", "op": "eq", "value": 9}]})
    with pytest.raises(PlanError, match="EAST: its rule no longer validates"):
        plan_activate(plan=new, on=today() + dt.timedelta(days=1), by=admin)
    assert sorted(AccountTerritory.objects.values_list("pk", "valid_to")) == before
    assert TerritoryPlan.active() == old and TerritoryPlan.objects.get(pk=new.pk).status == Status.STAGED


def test_a_second_activation_on_the_same_day_is_refused(world):
    admin, new = world["admin"], world["draft"]
    tomorrow = today() + dt.timedelta(days=1)
    plan_activate(plan=new, on=tomorrow, by=admin)
    again = factories.make_plan(name="Another", status=Status.STAGED,
                                approved_at=TerritoryPlan.objects.get(pk=new.pk).approved_at)
    with pytest.raises(PlanError, match="two plans cannot be activated on one day"):
        plan_activate(plan=again, on=tomorrow, by=admin, confirm=True)
    assert TerritoryPlan.active() == new


def test_the_previous_plan_is_reactivated_within_the_grace_period(world):
    admin, old, new = world["admin"], world["plan"], world["draft"]
    tomorrow = today() + dt.timedelta(days=1)
    plan_activate(plan=new, on=tomorrow, by=admin)
    back = plan_activate(plan=TerritoryPlan.objects.get(pk=old.pk), on=tomorrow + dt.timedelta(days=1), by=admin)
    assert back.moved == 1 and TerritoryPlan.active() == old
    assert primaries(old)[world["accounts"][2].pk] == "WEST" and primaries(new) == {}
    assert TerritoryPlan.objects.get(pk=new.pk).status == Status.ARCHIVED
    # Each account: one row in the old plan until tomorrow, one in the new for a day, one in the old again.
    rows = AccountTerritory.objects.filter(account=world["accounts"][2], is_primary=True).order_by("valid_from")
    assert [(r.plan_id, r.valid_from.date(), r.valid_to and r.valid_to.date()) for r in rows][1:] == [
        (new.pk, tomorrow, tomorrow + dt.timedelta(days=1)), (old.pk, tomorrow + dt.timedelta(days=1), None)]


@override_settings(PLAN_REACTIVATION_GRACE_DAYS=5)
def test_reactivation_after_the_grace_period_is_refused(world):
    admin, old, new = world["admin"], world["plan"], world["draft"]
    plan_activate(plan=new, on=today(), by=admin, confirm=True)
    with pytest.raises(PlanError, match="within 5 days"):
        plan_activate(plan=TerritoryPlan.objects.get(pk=old.pk), on=today() + dt.timedelta(days=6), by=admin)
    assert TerritoryPlan.active() == new
    assert Opportunity.objects.count() == 0


def test_activation_replaces_a_simulations_rows_and_keeps_its_record(db):
    world = company()
    admin, old, new = world["admin"], world["plan"], world["draft"]
    territory_services.territory_update_rule(territory=Territory.objects.get(plan=new, code="EAST"),
                                             rule=OREGON_EAST, by=admin)
    territory_services.territory_update_rule(territory=Territory.objects.get(plan=new, code="WEST"),
                                             rule=WEST_ONLY_CA, by=admin)
    simulation = simulate(new, by=admin)
    simulated = set(AccountTerritory.objects.filter(plan=new).values_list("pk", flat=True))
    assert simulated and simulation.impact
    services.plan_submit(plan=new, by=admin)
    services.plan_decide(plan=new, by=admin, decision="approve")
    plan_activate(plan=new, on=today() + dt.timedelta(days=1), by=admin)
    start = day_start(today() + dt.timedelta(days=1))
    rows = AccountTerritory.objects.filter(plan=new)
    assert not simulated & set(rows.values_list("pk", flat=True))  # the simulation's rows were replaced
    assert {r.valid_from for r in rows} == {start}
    assert primaries(new)[world["accounts"][2].pk] == "EAST"
    kept = Simulation.objects.get(pk=simulation.pk)
    assert (kept.plan_id, kept.baseline_id, kept.status) == (new.pk, old.pk, Simulation.Status.DONE)
    assert kept.impact == simulation.impact


def test_a_simulation_places_locked_accounts_where_activation_puts_them(db):
    """Simulation equals activation, account by account, locks included: the simulator routes each
    lock to the draft's territory of the same code, as activation moves it."""
    world = company()
    admin, old, new = world["admin"], world["plan"], world["draft"]
    ca, _, oregon, new_york, _ = world["accounts"]
    territory_services.territory_update_rule(territory=Territory.objects.get(plan=new, code="EAST"),
                                             rule=OREGON_EAST, by=admin)
    territory_services.territory_update_rule(territory=Territory.objects.get(plan=new, code="WEST"),
                                             rule=WEST_ONLY_CA, by=admin)
    # Locks against the draft's rules: Oregon kept in WEST, a California account put in EAST.
    factories.lock(oregon, Territory.objects.get(plan=old, code="WEST"))
    factories.lock(ca, Territory.objects.get(plan=old, code="EAST"))
    simulate(new, by=admin)
    simulated = primaries(new)
    assert simulated[oregon.pk] == "WEST" and simulated[ca.pk] == "EAST" and simulated[new_york.pk] == "EAST"
    services.plan_submit(plan=new, by=admin)
    services.plan_decide(plan=new, by=admin, decision="approve")
    plan_activate(plan=new, on=today() + dt.timedelta(days=1), by=admin)
    assert primaries(new) == simulated
    assert set(AccountLock.objects.values_list("territory__plan", flat=True)) == {new.pk}


def test_open_deals_follow_the_stage_based_policy_at_activation(world):
    """Early-stage deals of an account that changes owner move (territory and owner, with a
    DealOwnerChange each); late-stage ones stay; deals of accounts that stay are untouched."""
    rules = ReassignmentSettings.load()
    rules.deal_policy, rules.deal_stage = DealPolicy.STAGE_BASED, Opportunity.Stage.PROPOSAL
    rules.save()
    oregon, west_rep, east_rep = world["accounts"][2], world["west_rep"], world["east_rep"]
    early = [factories.make_opportunity(oregon, owner=west_rep, stage=stage)
             for stage in (Opportunity.Stage.PROSPECTING, Opportunity.Stage.DISCOVERY)]
    late = factories.make_opportunity(oregon, owner=west_rep, stage=Opportunity.Stage.NEGOTIATION)
    theirs = factories.make_opportunity(oregon, owner=east_rep, stage=Opportunity.Stage.PROSPECTING)
    stays = factories.make_opportunity(world["accounts"][0], owner=west_rep, stage=Opportunity.Stage.PROSPECTING)
    done = plan_activate(plan=world["draft"], on=today() + dt.timedelta(days=1), by=world["admin"])
    assert done.deals_moved == 2
    east = Territory.objects.get(plan=world["draft"], code="EAST")
    for deal in early:
        deal.refresh_from_db()
        assert (deal.owner, deal.territory) == (east_rep, east)
    for deal, owner in ((late, west_rep), (theirs, east_rep), (stays, west_rep)):
        deal.refresh_from_db()
        assert deal.owner == owner
    changes = DealOwnerChange.objects.filter(opportunity__in=early)
    assert {(c.from_user_id, c.to_user_id, c.effective_date) for c in changes} == {
        (west_rep.pk, east_rep.pk, today() + dt.timedelta(days=1))}
    assert changes.count() == 2 and DealOwnerChange.objects.count() == 2
