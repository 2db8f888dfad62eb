"""The lead-routing API's answers: territory, owner, overlays and explanation; leads created
and routed; a bounded query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from routing import services
from salesos.models import Lead
from territories import coverage
from territories.models import RepAssignment
from tests.factories import assign, make_leave, make_territory, make_user
from tests.routing.api.client import LEADS, ROUTE, make_token, post

pytestmark = pytest.mark.django_db


# --- documented answers -------------------------------------------------------------------------


def test_route_answers_territory_owner_overlays_and_explanation(client, key, plan):
    response = post(client, ROUTE, {"country": "us", "state": "us-ca", "industry": "622110",
                                    "employees": 250, "company": "Kaiser"}, key)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["territory"] == {"code": "US-WEST", "name": "US West"}
    assert body["owner"] == {"username": "wendy", "email": "wendy@example.com"}
    assert body["overlays"] == [{"territory": {"code": "HC-OVERLAY", "name": "Healthcare specialists"},
                                 "credit_percent": 40}]
    assert body["unassigned"] is False
    explanation = body["explanation"]
    assert explanation["source"] == "rule" and explanation["conflict"] is False
    outcomes = {c["code"]: c["outcome"] for c in explanation["candidates"]}
    assert outcomes == {"US-WEST": "won", "US": "rollup", "HC-OVERLAY": "overlay"}
    won = next(c for c in explanation["candidates"] if c["outcome"] == "won")
    assert set(won) == {"code", "tier", "priority", "specificity", "outcome", "reason", "is_overlay"}
    assert won["tier"] == "single" and won["specificity"]["geo"] == "state"
    assert isinstance(explanation["notes"], list)


def test_route_explains_a_tier_win_and_stores_nothing(client, key, plan):
    leads_before = Lead.objects.count()
    body = post(client, ROUTE, {"country": "US", "state": "US-CA", "employees": 9000}, key).json()
    assert body["territory"]["code"] == "US-ENT" and body["owner"] is None
    lost = next(c for c in body["explanation"]["candidates"] if c["code"] == "US-WEST")
    assert lost["outcome"] == "lost" and "tier" in lost["reason"]
    assert Lead.objects.count() == leads_before


def test_route_with_no_match_is_unassigned(client, key, plan):
    body = post(client, ROUTE, {"country": "DE", "region": "emea"}, key).json()
    assert body["territory"] is None and body["owner"] is None and body["overlays"] == []
    assert body["unassigned"] is True
    assert any("unassigned" in note for note in body["explanation"]["notes"])


def test_route_without_an_active_plan(client, key, db):
    body = post(client, ROUTE, {"country": "US"}, key).json()
    assert body["unassigned"] is True and "No active territory plan" in body["explanation"]["notes"][0]


def test_owner_is_the_backup_while_the_primary_is_on_leave(client, key, plan):
    cover = make_user(username="cover")
    assign(plan.t["west"], cover, slot=RepAssignment.Slot.BACKUP)
    make_leave(plan.wendy, start=timezone.localdate() - dt.timedelta(days=1))
    body = post(client, ROUTE, {"country": "US", "state": "US-OR"}, key).json()
    assert body["owner"]["username"] == "cover"
    # The same answer as the one owner rule.
    assert coverage.owner_ids_on(territory_ids=[plan.t["west"].pk])[plan.t["west"].pk] == cover.pk


@pytest.mark.parametrize(
    "case",
    ["primary", "primary_away_backup_here", "both_away", "no_primary_backup_here", "nobody", "ended_primary",
     "two_backups_first_away"],
)
def test_owner_rule_matches_the_services(key, plan, case):
    west = plan.t["west"]
    today = timezone.localdate()
    RepAssignment.objects.filter(territory=west).delete()
    primary, first, second = make_user(), make_user(), make_user()
    # The overlay's reps never own the record.
    assign(plan.t["overlay"], make_user())
    if case in ("primary", "primary_away_backup_here", "both_away", "two_backups_first_away"):
        assign(west, primary)
    if case == "ended_primary":
        assign(west, primary, start_date=today - dt.timedelta(days=30), end_date=today - dt.timedelta(days=1))
    if case != "nobody" and case != "primary":
        assign(west, first, slot=RepAssignment.Slot.BACKUP)
    if case == "two_backups_first_away":
        assign(west, second, slot=RepAssignment.Slot.BACKUP)
        make_leave(first, start=today)
    if case in ("primary_away_backup_here", "both_away", "two_backups_first_away"):
        make_leave(primary, start=today - dt.timedelta(days=2))
    if case == "both_away":
        make_leave(first, start=today)
    expected_id = coverage.owner_ids_on(territory_ids=[west.pk]).get(west.pk)
    ids = [west.pk, plan.t["overlay"].pk]
    territories, owner = coverage.names_and_owner_on(ids, west.pk, today)
    assert set(territories) == set(ids) and territories[west.pk].code == "US-WEST"
    expected = get_user_model().objects.filter(pk=expected_id).first() if expected_id else None
    assert (owner.username if owner else None) == (expected.username if expected else None), case


def test_route_accepts_an_empty_object_and_name_as_company(client, key, plan):
    assert post(client, ROUTE, {}, key).json()["unassigned"] is True
    assert post(client, ROUTE, {"name": "Acme", "company": "Acme", "country": "US"}, key).status_code == 200


# --- leads ---------------------------------------------------------------------------------------


def test_lead_is_created_routed_and_owned_by_the_primary(client, key, plan):
    response = post(client, LEADS, {"company": "Kaiser", "first_name": "Ada", "last_name": "Lo",
                                    "email": "ada@kaiser.example", "country": "US", "state": "US-CA",
                                    "industry": "622110", "employees": 250, "annual_revenue": "1250000.50",
                                    "source": "web form"}, key)
    assert response.status_code == 201, response.content
    body = response.json()
    lead = Lead.objects.get(pk=body["id"])
    assert lead.territory == plan.t["west"] and lead.owner == plan.wendy
    assert lead.status == "new" and lead.source == "web form" and lead.industry_code == "622110"
    assert str(lead.annual_revenue) == "1250000.50"
    assert lead.routing_trace["territory_id"] == plan.t["west"].pk
    assert body["territory"] == {"code": "US-WEST", "name": "US West"}
    assert body["owner"] == {"username": "wendy", "email": "wendy@example.com"}
    assert body["overlays"][0]["credit_percent"] == 40 and body["unassigned"] is False
    assert body["status"] == "new"
    assert [c["code"] for c in body["explanation"]["candidates"] if c["outcome"] == "won"] == ["US-WEST"]


def test_unmatched_lead_is_stored_unassigned(client, key, plan):
    body = post(client, LEADS, {"company": "Berlin GmbH", "country": "DE", "status": "working"}, key).json()
    lead = Lead.objects.get(pk=body["id"])
    assert lead.territory is None and lead.owner is None and lead.status == "working"
    assert lead.source == "api:CRM"  # the integration, when the caller names no source
    assert body["unassigned"] is True


def test_lead_needs_a_company(client, key, plan):
    for body in ({}, {"company": ""}, {"company": "   "}, {"company": None, "country": "US"}):
        response = post(client, LEADS, body, key)
        assert response.status_code == 400
        assert response.json()["errors"]["company"] == ["This field is required."]
    assert Lead.objects.count() == 0


def test_token_without_lead_permission_gets_403_but_may_route(client, plan):
    _, key = make_token("Form", can_create_leads=False)
    response = post(client, LEADS, {"company": "Acme"}, key)
    assert response.status_code == 403 and "error" in response.json()
    assert post(client, ROUTE, {"country": "US"}, key).status_code == 200
    assert Lead.objects.count() == 0


# --- cost -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [5, 200])
def test_route_query_count_is_bounded(client, key, plan, n, django_assert_max_num_queries):
    for i in range(n):
        make_territory(plan, code=f"EXTRA-{i}", rule={"all": [{"field": "postal_code", "op": "prefix",
                                                                "value": f"{i:05d}"}]})
    services.plan_touch(plan=plan)
    payload = {"country": "US", "state": "US-CA", "industry": "622110", "postal_code": "99999"}
    post(client, ROUTE, payload, key)  # warms the compiled plan and the token's last-used stamp
    # address count, token, token count, active plan, version stamp, territories with the owner
    with django_assert_max_num_queries(6):
        response = post(client, ROUTE, payload, key)
    assert response.json()["territory"]["code"] == "US-WEST"
    assert len(response.json()["overlays"]) == 1


def test_lead_query_count_is_bounded(client, key, plan, django_assert_max_num_queries):
    post(client, ROUTE, {"country": "US"}, key)  # warms the caches
    with django_assert_max_num_queries(16):
        response = post(client, LEADS, {"company": "Kaiser", "country": "US", "state": "US-CA",
                                        "industry": "622110"}, key)
    assert response.status_code == 201
