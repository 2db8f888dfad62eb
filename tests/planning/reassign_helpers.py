"""A small sales org for reassignment tests: a director over two managers, each with a rep who
holds one territory under a root the director holds; accounts in the West with open deals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone

from salesos.models import Activity, Opportunity, SalesProfile
from territories.models import Territory, TerritoryPlan
from tests.factories import assign, make_account, make_opportunity, make_plan, make_territory, make_user

Role = SalesProfile.Role
STAGES = ["prospecting", "qualification", "discovery", "proposal", "negotiation"]


@dataclass
class Org:
    plan: TerritoryPlan
    admin: Any
    director: Any
    west_manager: Any
    east_manager: Any
    west_rep: Any
    east_rep: Any
    other_manager: Any
    root: Territory
    west: Territory
    east: Territory
    elsewhere: Territory
    accounts: list = field(default_factory=list)
    deals: list = field(default_factory=list)
    activities: list = field(default_factory=list)


def build_org(*, accounts: int = 6) -> Org:
    admin = make_user(Role.ADMIN)
    director = make_user(Role.DIRECTOR)
    west_manager = make_user(Role.MANAGER, manager=director)
    east_manager = make_user(Role.MANAGER, manager=director)
    west_rep = make_user(Role.REP, manager=west_manager)
    east_rep = make_user(Role.REP, manager=east_manager)
    other_manager = make_user(Role.MANAGER)
    plan = make_plan()
    root = make_territory(plan, code="NA", name="North America")
    west = make_territory(plan, code="WEST", name="West", parent=root)
    east = make_territory(plan, code="EAST", name="East", parent=root)
    elsewhere = make_territory(plan, code="EMEA", name="EMEA")
    start = dt.date(2026, 1, 1)
    assign(root, director, start_date=start)
    assign(west, west_rep, start_date=start)
    assign(east, east_rep, start_date=start)
    assign(elsewhere, other_manager, start_date=start)
    org = Org(plan, admin, director, west_manager, east_manager, west_rep, east_rep, other_manager, root, west,
              east, elsewhere)
    later = timezone.now() + dt.timedelta(days=3)
    for i in range(accounts):
        account = make_account(territory=west, name=f"West {i}", potential=Decimal(1000 * (i + 1)))
        org.accounts.append(account)
        deal = make_opportunity(account, amount=Decimal(10_000 * (i + 1)), owner=west_rep, stage=STAGES[i % 5])
        org.deals.append(deal)
        org.activities.append(Activity.objects.create(account=account, opportunity=deal, user=west_rep,
                                                      kind="call", at=later))
        org.activities.append(Activity.objects.create(account=account, user=west_rep, kind="meeting", at=later))
    # A closed deal and a past activity never move.
    make_opportunity(org.accounts[0], amount=5, owner=west_rep, stage=Opportunity.Stage.CLOSED_WON,
                     status=Opportunity.Status.WON)
    Activity.objects.create(account=org.accounts[0], user=west_rep, kind="call",
                            at=timezone.now() - dt.timedelta(days=3))
    return org
