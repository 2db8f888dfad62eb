"""The routing pages' world: a plan with a country parent, two regional children, a hybrid
territory, a tie and an overlay; an org of admin, director, two managers and their reps; and the
helpers the routing page tests share (``tests/routing/test_*_views.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from routing import services
from salesos.models import Account, GeoArea, Industry, Lead
from territories import placement
from territories.grants import grants_rebuild
from territories.models import Territory, TerritoryPlan
from tests.factories import assign, make_plan, make_territory, make_user


def state_in(*codes):
    return {"all": [{"field": "state", "op": "in", "value": list(codes)}]}


@dataclass
class World:
    plan: TerritoryPlan
    t: dict[str, Territory]
    users: dict[str, object]
    own: Account  # in US-W: the rep's, so his manager's and the director's (who leads US)
    foreign: Account  # in US-E: another team's, still under the director's US subtree
    far: Account  # in APAC, a subtree nobody in this org leads
    own_lead: Lead
    foreign_lead: Lead
    far_lead: Lead

    def foreign_for(self, role: str, kind: str = "account"):
        """An object the role may not see (admins see everything: the far one then)."""
        if kind == "lead":
            return self.far_lead if role in ("admin", "director") else self.foreign_lead
        return self.far if role in ("admin", "director") else self.foreign


def reference_data() -> None:
    amer = GeoArea.objects.create(level="region", code="AMER", name="Americas")
    emea = GeoArea.objects.create(level="region", code="EMEA", name="EMEA")
    us = GeoArea.objects.create(level="country", code="US", name="United States", parent=amer, country="US")
    de = GeoArea.objects.create(level="country", code="DE", name="Germany", parent=emea, country="DE")
    for code, name in [("US-CA", "California"), ("US-NY", "New York"), ("US-TX", "Texas"), ("US-OR", "Oregon")]:
        GeoArea.objects.create(level="state", code=code, name=name, parent=us, country="US")
    GeoArea.objects.create(level="state", code="DE-BY", name="Bavaria", parent=de, country="DE")
    health = Industry.objects.create(scheme="naics", code="62", title="Health Care and Social Assistance")
    Industry.objects.create(scheme="naics", code="622", title="Hospitals", parent=health, level=2)
    Industry.objects.create(scheme="naics", code="51", title="Information")


def build_world() -> World:
    """A plan with a country parent, two regional children, a hybrid West-Healthcare territory
    that outranks the West, two tied Texas territories (a conflict) and a healthcare overlay; an
    org of admin, director, two managers with one rep each."""
    services._indexes.clear()  # plan ids repeat between tests; never reuse another test's index
    reference_data()
    users = {
        "admin": make_user("admin", username="ops"),
        "director": make_user("director", username="dir"),
    }
    users["manager"] = make_user("manager", username="mgr", manager=users["director"])
    users["rep"] = make_user("rep", username="rep", manager=users["manager"])
    users["other_manager"] = make_user("manager", username="mgr2", manager=users["director"])
    users["other_rep"] = make_user("rep", username="rep2", manager=users["other_manager"])
    for u, (first, last) in zip(users.values(), [("Alex", "Admin"), ("Dana", "Director"), ("Morgan", "Manager"),
                                                  ("Keisha", "Lee"), ("Olivia", "Okafor"), ("Taylor", "Tran")],
                                strict=True):
        u.first_name, u.last_name = first, last
        u.save(update_fields=["first_name", "last_name"])

    plan = make_plan(name="FY26")
    us = make_territory(plan, code="US", name="United States", rule={"all": [{"field": "country", "op": "eq",
                                                                             "value": "US"}]})
    t = {
        "us": us,
        "west": make_territory(plan, code="US-W", name="West", parent=us, rule=state_in("US-CA", "US-OR")),
        "east": make_territory(plan, code="US-E", name="East", parent=us, rule=state_in("US-NY")),
        "tx_a": make_territory(plan, code="TX-A", name="Texas North", parent=us, rule=state_in("US-TX")),
        "tx_b": make_territory(plan, code="TX-B", name="Texas South", parent=us, rule=state_in("US-TX")),
        "west_hc": make_territory(
            plan, code="W-HC", name="West-Healthcare", type="hybrid", priority=10,
            rule={"all": [{"field": "state", "op": "in", "value": ["US-CA"]},
                          {"field": "industry", "op": "in", "value": ["62"]}]},
        ),
        "apac": make_territory(plan, code="APAC", name="Asia Pacific", rule={"all": [{"field": "country", "op": "in",
                                                                                "value": ["JP", "AU"]}]}),
        "overlay": make_territory(plan, code="HC-OVL", name="Healthcare specialists", type="industry",
                                  is_overlay=True, credit_percent=40,
                                  rule={"all": [{"field": "industry", "op": "in", "value": ["62"]}]}),
    }
    assign(us, users["director"])  # the director leads the whole US subtree
    assign(t["west"], users["rep"])
    assign(t["west_hc"], users["rep"])
    assign(t["east"], users["other_rep"])
    assign(t["tx_a"], users["other_rep"])
    own = services.account_save(account=Account(name="Golden Labs", country="US", state="US-CA", industry_code="51"))
    foreign = services.account_save(account=Account(name="Atlantic Freight", country="US", state="US-NY"))
    far = services.account_save(account=Account(name="Tokyo Robotics", country="JP"))
    own_lead = services.lead_save(lead=Lead(company="Golden Leads", country="US", state="US-CA"))
    foreign_lead = services.lead_save(lead=Lead(company="Atlantic Leads", country="US", state="US-NY"))
    far_lead = services.lead_save(lead=Lead(company="Tokyo Leads", country="JP"))
    grants_rebuild()
    return World(plan, t, users, own, foreign, far, own_lead, foreign_lead, far_lead)



def unassigned(n: int, name: str = "Prospect", **kw) -> list[Account]:
    defaults = {"country": "DE", "state": "DE-BY", "city": "Munich", "region": "EMEA"}
    defaults.update(kw)
    return [services.account_save(account=Account(name=f"{name} {i}", **defaults)) for i in range(n)]


def login(client, world, role):
    client.force_login(world.users[role])


def territory_of(account: Account) -> Territory | None:
    """Where the account sits now (its current primary row in the active plan)."""
    return placement.placement(account).territory


def queued(accounts: list[Account]) -> int:
    """How many of these accounts are in the unassigned queue."""
    return placement.accounts_unassigned().filter(pk__in=[a.pk for a in accounts]).count()


ROLES = ["admin", "director", "manager", "rep"]


def hidden_candidates(world: World) -> tuple[Account, Lead]:
    """An account and a lead in US-W (seen by the rep, his manager and the director) that also
    match two territories outside the US subtree nobody below the admin sees: a state rule that
    loses on specificity (then wins on priority after a change, so a visible candidate's reason and
    the change banner name it) and an overlay that credits them."""
    hidden = make_territory(world.plan, code="ZZ-HID", name="Hidden Harbor", rule=state_in("US-CA"))
    make_territory(world.plan, code="ZZ-OVL", name="Hidden Overlay Crew", is_overlay=True, credit_percent=10,
                   rule=state_in("US-CA"))
    services.plan_touch(plan=world.plan)
    account = services.account_save(account=Account(name="Sunset Dental", country="US", state="US-CA",
                                                    industry_code="51"))
    lead = services.lead_save(lead=Lead(company="Sunset Leads", country="US", state="US-CA", industry_code="51"))
    assert territory_of(account) == world.t["west"] and lead.territory == world.t["west"]
    Territory.objects.filter(pk=hidden.pk).update(priority=50)  # today's rules now pick it
    services.plan_touch(plan=world.plan)
    return account, lead


def grow(world, n: int) -> None:
    """n more unassigned accounts, n routed ones with overlays and history, n more territories."""
    parent = world.t["us"]
    for i in range(n):
        make_territory(world.plan, code=f"X{i:04d}", parent=parent, rule=state_in(f"US-Z{i}"))
    Account.objects.bulk_create(
        Account(name=f"Bulk {i}", country="DE", state="DE-BY", industry_code="622", employees=i,
                annual_revenue=Decimal(i)) for i in range(n)
    )
    services.plan_touch(plan=world.plan)
    for i in range(n // 10):
        account = services.account_save(account=Account(name=f"Health {i}", country="US", state="US-CA",
                                                        industry_code="62"))
        before = services.routable_snapshot(account)
        account.state = "US-NY"
        services.account_save(account=account, before=before)
