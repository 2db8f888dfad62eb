"""Routing pages: the unassigned queue with bulk manual routing, explanations, conflicts, locks.
Every page is checked for every role against an object the role may see and one it may not."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from routing import placement, services, traces
from routing.models import AccountTerritory
from salesos.models import Account, GeoArea, Industry, Lead
from territories.grants import grants_rebuild
from territories.models import Territory, TerritoryPlan
from tests.factories import assign, make_plan, make_territory, make_user

pytestmark = pytest.mark.django_db


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


@pytest.fixture
def world() -> World:
    return build_world()


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


# --- permission matrix -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_queue_page_answers_every_role(client, world, role):
    unassigned(1)
    login(client, world, role)
    response = client.get(reverse("routing:index"))
    assert response.status_code == 200
    if role == "rep":
        assert b"Routing is managed by sales ops" in response.content
        assert b'name="accounts"' not in response.content
    else:
        assert b"Prospect 0" in response.content and b'name="accounts"' in response.content


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_account_explanation_matrix(client, world, role, which):
    login(client, world, role)
    account = world.own if which == "own" else world.foreign_for(role)
    expected = 200 if which == "own" or role == "admin" else 404
    assert client.get(reverse("routing:account_explain", args=[account.pk])).status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_lead_explanation_matrix(client, world, role, which):
    login(client, world, role)
    lead = world.own_lead if which == "own" else world.foreign_for(role, "lead")
    expected = 200 if which == "own" or role == "admin" else 404
    assert client.get(reverse("routing:lead_explain", args=[lead.pk])).status_code == expected


def test_missing_records_are_404(client, world):
    login(client, world, "admin")
    assert client.get(reverse("routing:account_explain", args=[99999])).status_code == 404
    assert client.get(reverse("routing:lead_explain", args=[99999])).status_code == 404


@pytest.mark.parametrize("role,expected", [("admin", 200), ("director", 200), ("manager", 200), ("rep", 404)])
def test_conflicts_page_matrix(client, world, role, expected):
    login(client, world, role)
    assert client.get(reverse("routing:conflicts")).status_code == expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("which", ["own", "foreign"])
def test_lock_matrix(client, world, role, which):
    login(client, world, role)
    account = world.own if which == "own" else world.foreign_for(role)
    response = client.post(reverse("routing:account_lock", args=[account.pk]), {"territory": "TX-B"})
    assert response.status_code == (302 if role == "admin" else 404)
    account.refresh_from_db()
    assert (account.locked_territory_id == world.t["tx_b"].pk) == (role == "admin")


@pytest.mark.parametrize("role,expected", [("admin", 302), ("director", 302), ("manager", 302), ("rep", 404)])
def test_bulk_route_matrix(client, world, role, expected):
    (account,) = unassigned(1)
    login(client, world, role)
    response = client.post(reverse("routing:route"), {"accounts": [account.pk], "territory": "US-W", "reason": "x"})
    assert response.status_code == expected
    assert (territory_of(account) == world.t["west"]) == (expected == 302)


@pytest.mark.parametrize("role,purpose,expected", [
    ("admin", "lock", 200), ("director", "lock", 404), ("manager", "route", 200), ("rep", "route", 404),
])
def test_territory_options_matrix(client, world, role, purpose, expected):
    login(client, world, role)
    response = client.get(reverse("routing:territory_options"), {"purpose": purpose, "territory": "us-"})
    assert response.status_code == expected


def test_anonymous_users_go_to_login(client, world):
    for url in [reverse("routing:index"), reverse("routing:conflicts"),
                reverse("routing:account_explain", args=[world.own.pk])]:
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


# --- the queue -----------------------------------------------------------------------------------


def test_queue_filters_narrow_the_list(client, world):
    unassigned(2, name="Munich")
    Account.objects.filter(name="Munich 1").update(created_at=timezone.now() - dt.timedelta(days=40))
    services.account_save(account=Account(name="Paris Health", country="FR", industry_code="622110"))
    services.account_save(account=Account(name="Lyon Food", country="FR", industry_code="311"))
    login(client, world, "admin")

    def names(**params):
        page = client.get(reverse("routing:index"), params).context["page"]
        return sorted(a.name for a in page)

    assert names() == ["Lyon Food", "Munich 0", "Munich 1", "Paris Health"]
    assert names(country="fr") == ["Lyon Food", "Paris Health"]
    assert names(state="DE-BY") == ["Munich 0", "Munich 1"]
    assert names(industry="62") == ["Paris Health"]
    assert names(q="lyon") == ["Lyon Food"]
    assert names(since=(timezone.localdate() - dt.timedelta(days=7)).isoformat(), country="DE") == ["Munich 0"]
    assert names(since="not-a-date") == names()  # a malformed filter is dropped, not fatal


def test_queue_is_paginated_and_keeps_filters_in_links(client, world):
    unassigned(55)
    login(client, world, "admin")
    response = client.get(reverse("routing:index"), {"country": "DE"})
    page = response.context["page"]
    assert page.paginator.count == 55 and len(page.object_list) == 50
    assert b'href="?country=DE&amp;page=2"' in response.content
    second = client.get(reverse("routing:index"), {"country": "DE", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_queue_filtering_with_htmx_returns_only_the_table(client, world):
    unassigned(1)
    login(client, world, "admin")
    response = client.get(reverse("routing:index"), {"q": "prospect"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert b"<html" not in response.content and b'id="queue"' in response.content


def test_bulk_route_puts_accounts_in_the_territory_with_the_reason(client, world):
    accounts = unassigned(3)
    login(client, world, "admin")
    response = client.post(
        reverse("routing:route"),
        {"accounts": [a.pk for a in accounts[:2]], "territory": "us-w", "reason": "Partner referral", "country": "DE"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("routing:index") + "?country=DE"
    assert "Routed 2 accounts to US-W West." in [str(m) for m in response.context["messages"]]
    rows = AccountTerritory.objects.filter(account__in=accounts[:2], valid_to__isnull=True)
    assert {(r.territory.code, r.source, r.reason, r.routed_by_id) for r in rows} == {
        ("US-W", "manual", "Partner referral", world.users["admin"].pk)
    }
    assert queued([accounts[2]]) == 1
    assert placement.placement(accounts[0]).owner == world.users["rep"]


def test_bulk_route_with_htmx_swaps_the_table_and_says_so(client, world):
    accounts = unassigned(2)
    login(client, world, "director")
    response = client.post(
        reverse("routing:route"),
        {"accounts": [accounts[0].pk], "territory": "US-E", "reason": "Territory swap"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'id="queue"' in body
    assert "Routed 1 account to US-E East." in body
    assert f'value="{accounts[0].pk}"' not in body and f'value="{accounts[1].pk}"' in body
    assert 'hx-swap-oob="true" id="queue-count"' in body


BAD_POSTS = {
    "no accounts": ({"accounts": [], "territory": "US-W", "reason": "r"}, "Select at least one account"),
    "unknown territory": ({"territory": "NOPE", "reason": "r"}, "No territory “NOPE”"),
    "overlay territory": ({"territory": "HC-OVL", "reason": "r"}, "No territory “HC-OVL”"),
    "empty reason": ({"territory": "US-W", "reason": "   "}, "Say why these accounts go there"),
    "no territory": ({"territory": "", "reason": "r"}, "Choose the territory"),
    "garbage id": ({"territory": "US-W", "reason": "r", "accounts": ["abc"]}, "not an account id"),
    # Past the database's integer range: SQLite raised OverflowError binding it.
    "huge id": ({"territory": "US-W", "reason": "r", "accounts": ["99999999999999999999"]}, "not an account id"),
    "non-ascii digit": ({"territory": "US-W", "reason": "r", "accounts": ["²"]}, "not an account id"),
}


@pytest.mark.parametrize("case", BAD_POSTS)
@pytest.mark.parametrize("htmx", [False, True])
def test_bulk_route_rejects_bad_input_and_changes_nothing(client, world, case, htmx):
    accounts = unassigned(2)
    data, message = BAD_POSTS[case]
    data = {"accounts": [a.pk for a in accounts], **data}
    rows = AccountTerritory.objects.count()
    login(client, world, "admin")
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.post(reverse("routing:route"), data, headers=headers)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert AccountTerritory.objects.count() == rows
    assert queued(accounts) == 2


def test_bulk_route_refuses_accounts_that_left_the_queue(client, world):
    (waiting,) = unassigned(1)
    login(client, world, "admin")
    data = {"accounts": [waiting.pk, world.own.pk], "territory": "US-E", "reason": "r"}
    response = client.post(reverse("routing:route"), data)
    assert "1 of the selected accounts are no longer in the unassigned queue" in response.content.decode()
    assert territory_of(world.own) == world.t["west"] and territory_of(waiting) is None


def test_a_manager_routes_only_into_their_teams_territories(client, world):
    (account,) = unassigned(1)
    login(client, world, "manager")
    page = client.get(reverse("routing:index"))
    assert [t.code for t in page.context["targets"]] == ["US-W", "W-HC"]
    response = client.post(reverse("routing:route"), {"accounts": [account.pk], "territory": "US-E", "reason": "r"})
    assert "No territory “US-E” you can route into" in response.content.decode()
    assert territory_of(account) is None
    client.post(reverse("routing:route"), {"accounts": [account.pk], "territory": "US-W", "reason": "r"})
    assert territory_of(account) == world.t["west"]


def test_territory_of_another_plan_is_unknown(client, world):
    draft = make_plan(name="Draft", status="draft")
    make_territory(draft, code="DRAFT-1")
    (account,) = unassigned(1)
    login(client, world, "admin")
    response = client.post(reverse("routing:route"), {"accounts": [account.pk], "territory": "DRAFT-1", "reason": "r"})
    assert "No territory “DRAFT-1”" in response.content.decode()


def test_territory_options_search_by_code_or_name(client, world):
    login(client, world, "admin")
    body = client.get(reverse("routing:territory_options"), {"territory": "texas"}).content.decode()
    assert 'value="TX-A"' in body and 'value="TX-B"' in body and "US-W" not in body


# --- explanations --------------------------------------------------------------------------------


def test_explanation_shows_winner_candidates_and_why(client, world):
    account = services.account_save(account=Account(name="Kaiser", country="US", state="US-CA",
                                                    industry_code="622110"))
    login(client, world, "admin")  # who sees every candidate (test_explanations_mask_... for the others)
    response = client.get(reverse("routing:account_explain", args=[account.pk]))
    body = response.content.decode()
    x = response.context["x"]
    assert "Why is Kaiser in West-Healthcare?" in body
    assert x.primary.territory.code == "W-HC" and x.stored.winner.code == "W-HC"
    assert {c.code: c.outcome for c in x.stored.candidates} == {
        "W-HC": "won", "US-W": "lost", "US": "rollup", "HC-OVL": "overlay"}
    winner_rows = [row.split("</tr>")[0] for row in body.split('<tr class="is-winner">')[1:]]
    assert winner_rows and all("W-HC" in row and "US-W" not in row for row in winner_rows)
    assert "routing engine" in body and "lock set by an admin" not in body and "Routed by hand" not in body
    assert "tier hybrid comes after" not in body and "Tier single comes after hybrid (W-HC)" in body
    assert [(r.territory.code, r.credit_percent) for r in x.overlay_rows] == [("HC-OVL", 40)]
    assert not x.change.differs and 'data-live="same"' in body
    assert "Industry</strong> is one of <span class=\"code\">62</span>" in body
    assert "(this record: 622110)" in body


def test_explanation_rebuilds_the_stored_decision_and_notes_a_plan_change(client, world):
    """The row keeps only which territories matched; the page rebuilds the candidates, the winner
    and why from it, and says so when the plan has moved on since."""
    account = services.account_save(account=Account(name="Kaiser", country="US", state="US-CA",
                                                    industry_code="622110"))
    row = AccountTerritory.objects.select_related("decision").get(account=account, is_primary=True,
                                                                 valid_to__isnull=True)
    decided = services.plan_index(plan=world.plan).resolve(services.record_of(account))
    assert sorted(row.decision.matched) == sorted(decided.matched)
    assert traces.decision_trace(row) == decided.to_dict()
    decided_under = row.decision.plan_version

    west_hc = world.t["west_hc"]
    west_hc.priority = 3  # still the winner (hybrid tier), with a new priority
    west_hc.save()
    services.plan_touch(plan=world.plan)
    now = world.plan.version
    assert now > decided_under
    login(client, world, "admin")
    response = client.get(reverse("routing:account_explain", args=[account.pk]))
    body = response.content.decode()
    x = response.context["x"]
    assert x.stored.plan_version == decided_under and x.live.plan_version == now
    assert {c.code: c.outcome for c in x.stored.candidates} == {
        "W-HC": "won", "US-W": "lost", "US": "rollup", "HC-OVL": "overlay"}
    assert x.stored.winner.code == "W-HC" and x.stored.winner.priority == 3  # today's priorities
    assert "Tier hybrid, priority 3" in body
    note = (f"Decided under plan version {decided_under}; the plan has changed since (now version {now}): "
            "candidates are shown with today's priorities and rules.")
    assert note in x.stored.notes and escape(note) in body
    assert f"plan version {decided_under} → {now}" in body and 'data-change="same"' in body


def test_decision_trace_of_rows_without_a_decision_is_none(world):
    (account,) = unassigned(1)
    services.accounts_route_manually(account_ids=[account.pk], territory=world.t["east"],
                                     by=world.users["admin"], reason="By hand")
    manual = AccountTerritory.objects.get(account=account, valid_to__isnull=True)
    assert manual.decision_id is None and traces.decision_trace(manual) is None
    kaiser = services.account_save(account=Account(name="Kaiser", country="US", state="US-CA",
                                                   industry_code="622110"))
    overlay = AccountTerritory.objects.get(account=kaiser, is_primary=False, valid_to__isnull=True)
    assert traces.decision_trace(overlay) is None
    rows = list(AccountTerritory.objects.filter(valid_to__isnull=True).select_related("decision").order_by("pk"))
    assert traces.decision_traces(rows) == [traces.decision_trace(r) for r in rows]


def test_explanation_flags_a_rule_change_with_the_new_target(client, world):
    west = world.t["west"]
    west.rule = state_in("US-OR")
    west.save()
    services.plan_touch(plan=world.plan)
    login(client, world, "admin")
    body = client.get(reverse("routing:account_explain", args=[world.own.pk])).content.decode()
    assert 'data-change="differs"' in body
    assert "Rules changed since this decision." in body
    link = f'<a href="/territories/{world.t["us"].pk}/"><span class="code">US</span> United States</a>'
    assert f"A re-route would move it to {link}." in body


def test_explanation_of_manual_routing_shows_who_and_why(client, world):
    (account,) = unassigned(1)
    services.accounts_route_manually(account_ids=[account.pk], territory=world.t["east"],
                                     by=world.users["director"], reason="Trade show lead")
    login(client, world, "admin")
    response = client.get(reverse("routing:account_explain", args=[account.pk]))
    body = response.content.decode()
    assert "Why is Prospect 0 in East?" in body and "Trade show lead" in body and "Dana Director" in body
    assert not response.context["x"].change.moves  # no rule claims it, the manual row stands
    assert "Routed by hand from the unassigned queue" in body and "the manual routing stands" in body


def test_explanation_of_an_unassigned_account(client, world):
    (account,) = unassigned(1)
    login(client, world, "admin")
    body = client.get(reverse("routing:account_explain", args=[account.pk])).content.decode()
    assert "Why is Prospect 0 unassigned?" in body and "No territory matches: unassigned" in body


def test_explanation_lists_ownership_history(client, world):
    account = world.own
    before = services.routable_snapshot(account)
    account.state = "US-NY"
    services.account_save(account=account, before=before)
    login(client, world, "admin")
    x = client.get(reverse("routing:account_explain", args=[account.pk])).context["x"]
    assert [(r.territory.code, r.valid_to is None) for r in x.history] == [("US-E", True), ("US-W", False)]


def test_lead_explanation_reads_the_stored_trace(client, world):
    login(client, world, "rep")
    response = client.get(reverse("routing:lead_explain", args=[world.own_lead.pk]))
    assert response.context["x"].stored.winner.code == "US-W"
    assert "Why is this lead in West?" in response.content.decode()


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


HIDDEN_FROM_ALL = ("ZZ-HID", "Hidden Harbor", "ZZ-OVL", "Hidden Overlay Crew")


@pytest.mark.parametrize("role", ["director", "manager", "rep"])
@pytest.mark.parametrize("page", ["account", "lead"])
def test_explanations_mask_territories_the_role_may_not_see(client, world, role, page):
    """Candidates (stored and live), reasons, the level checks, the overlay and history rows and the
    change banner show a territory the role may not see as another team's, without code or name;
    its outcome stays. The US parent is the director's, not the manager's or the rep's."""
    account, lead = hidden_candidates(world)
    login(client, world, role)
    url = reverse("routing:account_explain", args=[account.pk]) if page == "account" else (
        reverse("routing:lead_explain", args=[lead.pk]))
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    hidden = HIDDEN_FROM_ALL + (() if role == "director" else ("United States",))
    assert [text for text in hidden if text in body] == []
    assert ("United States" in body) == (role == "director")  # masking only what is hidden
    assert "US-W" in body and "West" in body
    x = response.context["x"]
    assert {c.outcome for c in x.live.candidates if c.shown.hidden} >= {"won", "overlay"}
    assert {c.code for c in x.live.candidates if c.shown.hidden} == {""}
    assert "Another team&#x27;s territory" in body
    # The losing reason keeps its sense without the code: "priority 0 is below ZZ-HID's 50".
    assert "Priority 0 is below another team&#x27;s territory&#x27;s 50" in body
    assert 'data-change="differs"' in body and x.change.target_shown.hidden


@pytest.mark.parametrize("page", ["account", "lead"])
def test_the_admin_sees_every_territory_an_explanation_names(client, world, page):
    account, lead = hidden_candidates(world)
    login(client, world, "admin")
    url = reverse("routing:account_explain", args=[account.pk]) if page == "account" else (
        reverse("routing:lead_explain", args=[lead.pk]))
    body = client.get(url).content.decode()
    assert [text for text in HIDDEN_FROM_ALL + ("United States",) if text not in body] == []
    assert "Another team" not in body
    assert "Priority 0 is below ZZ-HID&#x27;s 50" in body


# --- conflicts -----------------------------------------------------------------------------------


def test_conflicts_list_the_tie_and_its_candidates(client, world):
    tied = services.account_save(account=Account(name="Lone Star", country="US", state="US-TX"))
    login(client, world, "director")
    response = client.get(reverse("routing:conflicts"))
    rows = list(response.context["page"])
    assert [(r.account, r.territory.code, [c.code for c in r.view.tied]) for r in rows] == [(tied, "TX-A", ["TX-B"])]
    assert "Texas South" in response.content.decode()


def test_a_manager_sees_only_conflicts_won_by_their_teams_territories(client, world):
    services.account_save(account=Account(name="Lone Star", country="US", state="US-TX"))
    login(client, world, "manager")
    assert client.get(reverse("routing:conflicts")).context["page"].paginator.count == 0
    client.force_login(world.users["other_manager"])
    assert client.get(reverse("routing:conflicts")).context["page"].paginator.count == 1


def test_a_tied_loser_the_user_may_not_see_is_shown_without_code_or_name(client, world):
    """The other manager sees TX-A (his rep's), not TX-B, which it beat on the lowest code."""
    services.account_save(account=Account(name="Lone Star", country="US", state="US-TX"))
    client.force_login(world.users["other_manager"])
    body = client.get(reverse("routing:conflicts")).content.decode()
    assert "Lone Star" in body and "Texas North" in body
    assert "TX-B" not in body and "Texas South" not in body and "Another team&#x27;s territory" in body
    login(client, world, "admin")
    body = client.get(reverse("routing:conflicts")).content.decode()
    assert "TX-B" in body and "Texas South" in body and "Another team" not in body


def test_a_director_sees_only_conflicts_in_the_subtrees_they_lead(client, world):
    make_territory(world.plan, code="APAC-2", name="Asia Pacific Two",
                   rule={"all": [{"field": "country", "op": "in", "value": ["JP"]}]})
    services.plan_touch(plan=world.plan)
    services.account_save(account=Account(name="Osaka Works", country="JP"))
    services.account_save(account=Account(name="Lone Star", country="US", state="US-TX"))
    login(client, world, "director")
    body = client.get(reverse("routing:conflicts")).content.decode()
    assert "Lone Star" in body and "Osaka Works" not in body and "Asia Pacific" not in body
    login(client, world, "admin")
    body = client.get(reverse("routing:conflicts")).content.decode()
    assert "Lone Star" in body and "Osaka Works" in body


# --- locks ---------------------------------------------------------------------------------------


def test_lock_then_unlock(client, world):
    login(client, world, "admin")
    account = world.own
    response = client.post(reverse("routing:account_lock", args=[account.pk]), {"territory": "US-E"}, follow=True)
    account.refresh_from_db()
    assert account.locked_territory == world.t["east"] and territory_of(account) == world.t["east"]
    assert AccountTerritory.objects.get(account=account, valid_to__isnull=True, is_primary=True).source == "lock"
    body = response.content.decode()
    assert "Locked to US-E East. Now in US-E East, owner Taylor Tran." in body and 'data-lock="locked"' in body

    response = client.post(reverse("routing:account_lock", args=[account.pk]), {"action": "unlock"}, follow=True)
    account.refresh_from_db()
    assert account.locked_territory is None and territory_of(account) == world.t["west"]
    assert 'data-lock="unlocked"' in response.content.decode()
    # A lock row nobody signed reads as an admin's lock in the history, never as the engine's.
    AccountTerritory.objects.filter(account=account, source="lock").update(routed_by=None, reason="")
    body = client.get(reverse("routing:account_explain", args=[account.pk])).content.decode()
    assert "lock set by an admin" in body


@pytest.mark.parametrize("code", ["", "NOPE", "HC-OVL"])
def test_lock_rejects_bad_territories(client, world, code):
    login(client, world, "admin")
    response = client.post(reverse("routing:account_lock", args=[world.own.pk]), {"territory": code})
    assert response.status_code == 200 and b"is-invalid" in response.content
    world.own.refresh_from_db()
    assert world.own.locked_territory is None


def test_lock_form_is_shown_to_admins_only(client, world):
    login(client, world, "director")
    body = client.get(reverse("routing:account_explain", args=[world.own.pk])).content.decode()
    assert "Not locked" in body and 'name="territory"' not in body
    login(client, world, "admin")
    assert 'name="territory"' in client.get(reverse("routing:account_explain", args=[world.own.pk])).content.decode()


# --- query counts --------------------------------------------------------------------------------


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


@pytest.mark.parametrize("n", [10, 200])
def test_queue_page_queries_are_bounded(client, world, n, django_assert_max_num_queries):
    grow(world, n)
    login(client, world, "manager")
    with django_assert_max_num_queries(10):
        assert client.get(reverse("routing:index"), {"industry": "62"}).status_code == 200


@pytest.mark.parametrize("n", [10, 200])
def test_explanation_queries_are_bounded(client, world, n, django_assert_max_num_queries):
    grow(world, n)
    account = Account.objects.filter(name__startswith="Health").first()
    login(client, world, "admin")
    client.get(reverse("routing:account_explain", args=[account.pk]))  # warm the compiled plan
    # The owner is computed, not stored: its territory's assignments, the leaves, the user; and
    # which territories the user may open (one query: the page links those).
    with django_assert_max_num_queries(17):
        assert client.get(reverse("routing:account_explain", args=[account.pk])).status_code == 200


@pytest.mark.parametrize("n", [10, 200])
def test_conflicts_queries_are_bounded(client, world, n, django_assert_max_num_queries):
    for i in range(n // 5):
        services.account_save(account=Account(name=f"Texan {i}", country="US", state="US-TX"))
    login(client, world, "manager")
    client.force_login(world.users["other_manager"])
    with django_assert_max_num_queries(10):  # one of them: the territories the page may link
        assert client.get(reverse("routing:conflicts")).status_code == 200
