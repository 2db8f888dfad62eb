"""A small company with an active plan and a draft copy of it, for the plan lifecycle tests."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from planning.plans.clone import plan_copy
from routing import services as routing_services
from routing.batch import plan_reroute
from territories.models import AccountTerritory
from tests import factories

WEST = {"all": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]}]}
EAST = {"all": [{"field": "state", "op": "in", "value": ["US-NY", "US-MA"]}]}


def company():
    """An active plan (WEST and EAST, each with a rep) and five routed accounts; a draft copy."""
    routing_services._indexes.clear()
    admin = factories.make_user("admin")
    manager = factories.make_user("manager")
    west_rep = factories.make_user("rep", manager=manager)
    east_rep = factories.make_user("rep", manager=manager)
    plan = factories.make_plan(name="FY26")
    west = factories.make_territory(plan, code="WEST", rule=WEST)
    east = factories.make_territory(plan, code="EAST", rule=EAST)
    factories.assign(west, west_rep, start_date=dt.date(2026, 1, 1))
    factories.assign(east, east_rep, start_date=dt.date(2026, 1, 1))
    accounts = [factories.make_account(state=s) for s in ("US-CA", "US-CA", "US-OR", "US-NY", "US-MA")]
    plan_reroute(plan=plan)
    draft = plan_copy(source=plan, name="FY27 draft", by=admin)
    return {"admin": admin, "manager": manager, "west_rep": west_rep, "east_rep": east_rep, "plan": plan,
            "draft": draft, "accounts": accounts}


def primaries(plan) -> dict[int, str]:
    """Account -> territory code of its current primary row in ``plan``."""
    return dict(AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True)
                .values_list("account_id", "territory__code"))


def today() -> dt.date:
    return timezone.localdate()
