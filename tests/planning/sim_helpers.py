"""A small company for the simulator's tests: an active plan (two regions, four state
territories with owners), accounts routed into it by the batch path, open deals owned by the
territory's owner, and a draft copied from it with the existing export/import."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from planning.simulation.services import simulation_run, simulation_start
from planning.transfer import plan_export, plan_import
from routing.batch import plan_reroute
from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from territories.models import AccountTerritory, Territory, TerritoryPlan
from tests import factories

Role = SalesProfile.Role
STATES = {"CA": ("US-CA", "A"), "OR": ("US-OR", "A"), "NY": ("US-NY", "B"), "MA": ("US-MA", "B")}


def state_rule(*states: str) -> dict:
    return {"all": [{"field": "state", "op": "in", "value": list(states)}]}


@dataclass
class Company:
    active: TerritoryPlan
    admin: object
    director: object
    manager: object
    rep: object
    reps: dict  # territory code -> rep


def company(accounts_per_state: int = 6) -> Company:
    fy = factories.make_fiscal_year("FY2026")
    active = factories.make_plan(name="Live plan", fiscal_year=fy)
    admin = factories.make_user(Role.ADMIN, username="s_admin")
    director = factories.make_user(Role.DIRECTOR, username="s_dir")
    other_director = factories.make_user(Role.DIRECTOR, username="s_dir_b")
    manager = factories.make_user(Role.MANAGER, username="s_mgr", manager=director)
    regions = {
        "A": factories.make_territory(active, code="A", name="Region West",
                                      rule=state_rule("US-CA", "US-OR")),
        "B": factories.make_territory(active, code="B", name="Region East",
                                      rule=state_rule("US-NY", "US-MA")),
    }
    factories.assign(regions["A"], director)
    factories.assign(regions["B"], other_director)
    reps = {}
    for code, (state, region) in STATES.items():
        t = factories.make_territory(active, code=code, name=f"State {code}", parent=regions[region],
                                     rule=state_rule(state))
        reps[code] = factories.make_user(Role.REP, username=f"s_rep_{code.lower()}", manager=manager)
        factories.assign(t, reps[code])
        for i in range(accounts_per_state):
            factories.make_account(name=f"{code} Co {i}", state=state, potential=Decimal(1000 * (i + 1)))
    factories.make_account(name="Texan Co", state="US-TX")  # outside every territory
    plan_reroute(plan=active)
    for row in AccountTerritory.objects.filter(plan=active, valid_to__isnull=True).select_related("territory"):
        factories.make_opportunity(row.account, amount=Decimal(5000), owner=reps.get(row.territory.code),
                                   territory=row.territory)
    grants_rebuild()
    return Company(active, admin, director, manager, reps["CA"], reps)


def draft_of(plan: TerritoryPlan, name: str = "Draft FY27") -> TerritoryPlan:
    """A draft copy through the plan export and import."""
    draft = plan_import(document=plan_export(plan=plan), name=name)
    assert draft.status == TerritoryPlan.Status.DRAFT
    grants_rebuild()
    return draft


def simulate(plan: TerritoryPlan, by=None):
    simulation = simulation_start(plan=plan, by=by, queue=False)
    done = simulation_run(simulation_id=simulation.pk)
    assert done is not None and done.is_done, done.error if done else None
    return done


def territory(plan: TerritoryPlan, code: str) -> Territory:
    return Territory.objects.get(plan=plan, code=code)
