"""The simulator: a draft routed with every live account by the batch path, its rows the draft's
own, the live placement untouched; the impact against the active plan; stale after an edit."""

from __future__ import annotations

from decimal import Decimal

import pytest

from planning.figures import territory_figures
from planning.models import Simulation
from planning.simulation.report import simulation_report
from planning.simulation.services import SimulationRefused, simulation_start
from routing.engine import resolve
from routing.services import plan_index, record_of
from salesos.models import Account
from territories import placement
from territories import services as territory_services
from territories.models import AccountTerritory, RepAssignment
from tests import factories
from tests.planning.sim_helpers import company, draft_of, simulate, state_rule, territory

pytestmark = pytest.mark.django_db


def live_rows(plan) -> list[tuple]:
    return sorted(AccountTerritory.objects.filter(plan=plan).values_list(
        "pk", "account_id", "territory_id", "is_primary", "valid_to"))


def engine_codes(plan) -> dict[int, str | None]:
    """Where the single-record engine puts each account in ``plan`` (territory code)."""
    index = plan_index(plan=plan)
    codes = dict(plan.territories.values_list("pk", "code"))
    out = {}
    for account in Account.objects.all():
        decision = resolve(index, record_of(account))
        out[account.pk] = codes.get(decision.territory_id)
    return out


def draft_codes(plan) -> dict[int, str | None]:
    rows = placement.current_primary_rows(plan).values_list("account_id", "territory__code")
    found = dict(rows)
    return {a: found.get(a) for a in Account.objects.values_list("pk", flat=True)}


def test_a_draft_identical_to_the_active_plan_moves_nothing_and_live_rows_stay():
    world = company()
    draft = draft_of(world.active)
    before = live_rows(world.active)
    live_owner = dict(placement.current_primary_rows().values_list("account_id", "territory_id"))

    done = simulate(draft, by=world.admin)

    report = simulation_report(simulation=done, user=world.admin)
    assert report.accounts == Account.objects.count() == 25
    assert report.moved == 0 and report.flows == []
    assert report.accounts_changing_owner == 0 and report.deals_changing_owner == 0
    assert report.unassigned_before == report.unassigned_after == 1  # the Texan account, in both
    # The draft holds its own rows; the live ones are exactly as they were.
    assert live_rows(world.active) == before
    assert dict(placement.current_primary_rows().values_list("account_id", "territory_id")) == live_owner
    assert placement.current_primary_rows(draft).count() == 24


def test_an_edited_draft_places_each_account_where_routing_through_the_draft_puts_it():
    world = company()
    draft = draft_of(world.active)
    ca, ny = territory(draft, "CA"), territory(draft, "NY")
    # Oregon joins California's territory; New York's territory now takes Massachusetts too, and
    # Massachusetts's own territory keeps nothing.
    territory_services.territory_update_rule(territory=ca, rule=state_rule("US-CA", "US-OR"), by=world.admin)
    territory_services.territory_update_rule(territory=territory(draft, "OR"), rule=state_rule("US-WA"),
                                             by=world.admin)
    territory_services.territory_update_rule(territory=ny, rule=state_rule("US-NY", "US-MA"), by=world.admin)
    territory_services.territory_update_rule(territory=territory(draft, "MA"), rule=state_rule("US-CT"),
                                             by=world.admin)

    done = simulate(draft, by=world.admin)

    assert draft_codes(draft) == engine_codes(draft)  # account by account
    live = engine_codes(world.active)
    simulated = draft_codes(draft)
    expected_moves = sum(1 for a in live if live[a] != simulated[a])
    report = simulation_report(simulation=done, user=world.admin)
    assert expected_moves == 12 and report.moved == expected_moves
    flows = {(f.source, f.target): f.accounts for f in report.flows}
    assert flows == {("OR State OR", "CA State CA"): 6, ("MA State MA", "NY State NY"): 6}
    # Their deals go to the new territory's owner: the Oregon and Massachusetts reps lose them.
    assert report.deals_changing_owner == 12
    assert report.pipeline_changing_owner == Decimal(12 * 5000)
    assert report.accounts_changing_owner == 12
    vacant_or_empty = {r.code: r.load.accounts for r in report.balance}
    assert vacant_or_empty["OR"] == 0 and vacant_or_empty["CA"] == 12


def test_the_balance_counts_what_the_planning_figures_count():
    world = company()
    draft = draft_of(world.active)
    territory_services.territory_update_rule(territory=territory(draft, "CA"), rule=state_rule("US-CA", "US-OR"),
                                             by=world.admin)
    done = simulate(draft)
    report = simulation_report(simulation=done, user=world.admin)
    ids = dict(draft.territories.values_list("code", "pk"))
    figures = territory_figures(ids.values())
    for row in report.balance:
        f = figures[ids[row.code]]
        assert (row.load.accounts, row.load.tam, row.load.pipeline) == (f.accounts, f.tam, f.pipeline), row.code
    cv = {s.label: s.cv for s in report.stats_after}
    assert cv["Accounts"] is not None and cv["Accounts"] > 0  # CA 12, OR 0, NY 6, MA 6
    assert [s.maximum for s in report.stats_after if s.label == "Accounts"] == [12.0]


def test_a_vacant_draft_territory_is_listed_with_the_accounts_it_would_hold():
    world = company()
    draft = draft_of(world.active)
    held = RepAssignment.objects.get(territory=territory(draft, "NY"), slot=RepAssignment.Slot.PRIMARY)
    territory_services.assignment_end(assignment=held, end_date=None, by=world.admin)
    RepAssignment.objects.filter(pk=held.pk).update(start_date="2020-01-01", end_date="2020-01-02")
    done = simulate(draft)
    report = simulation_report(simulation=done, user=world.admin)
    assert [(r.code, r.load.accounts) for r in report.vacancies] == [("NY", 6)]
    assert report.deals_changing_owner == 6  # nobody owns New York's deals in the draft


def test_an_edit_to_the_draft_or_the_active_plan_marks_the_simulation_stale():
    world = company()
    draft = draft_of(world.active)
    done = simulate(draft)
    assert not done.stale
    territory_services.territory_update_rule(territory=territory(draft, "CA"), rule=state_rule("US-CA", "US-NV"),
                                             by=world.admin)
    done.refresh_from_db()
    assert done.stale
    again = simulate(draft)
    assert not again.stale
    factories.assign(territory(world.active, "CA"), factories.make_user(), slot=RepAssignment.Slot.BACKUP)
    territory_services.assignment_add(territory=territory(world.active, "OR"), user=factories.make_user(),
                                      slot=RepAssignment.Slot.BACKUP, by=world.admin)
    again.refresh_from_db()
    assert again.stale


def test_a_second_run_writes_only_what_the_edit_moves():
    world = company()
    draft = draft_of(world.active)
    simulate(draft)
    territory_services.territory_update_rule(territory=territory(draft, "CA"), rule=state_rule("US-CA", "US-OR"),
                                             by=world.admin)
    again = simulate(draft)
    assert again.impact["routed"]["changed"] == 6  # Oregon's accounts, nothing else


def test_only_drafts_are_simulated_and_one_run_at_a_time():
    world = company()
    with pytest.raises(SimulationRefused, match="Only draft plans"):
        simulation_start(plan=world.active, queue=False)
    draft = draft_of(world.active)
    simulation_start(plan=draft, queue=False)
    with pytest.raises(SimulationRefused, match="already running"):
        simulation_start(plan=draft, queue=False)
    assert Simulation.objects.filter(plan=draft).count() == 1
