"""Account and lead explanations: winner, candidates, changes, history, masks."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from routing import engine, services, traces
from salesos.models import Account
from territories.models import AccountTerritory
from tests.routing.pages import (
    hidden_candidates,
    login,
    state_in,
    unassigned,
)

pytestmark = pytest.mark.django_db

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
    decided = engine.resolve(services.plan_index(plan=world.plan), services.record_of(account))
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
