"""The lead-routing API: documented answers, leads created and routed, every bad input answered
with JSON field messages (never a 500), authentication, and a bounded query count."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from routing import api_input, services
from routing.models import IntegrationToken
from salesos.models import GeoArea, Lead
from territories import coverage
from territories.models import RepAssignment
from tests.factories import assign, make_leave, make_plan, make_territory, make_user

pytestmark = pytest.mark.django_db

ROUTE = "/api/v1/route"
LEADS = "/api/v1/leads"
HEALTH = {"all": [{"field": "industry", "op": "in", "value": ["62"]}]}


@pytest.fixture(autouse=True)
def _fresh_caches():
    # SQLite reuses primary keys after a rolled-back test, so a plan of an earlier test could
    # share a pk and version stamp with this one: start each test with empty process caches.
    services._indexes.clear()
    api_input.forget_known_countries()
    yield
    services._indexes.clear()
    api_input.forget_known_countries()


def make_token(name: str = "CRM", **kw) -> tuple[IntegrationToken, str]:
    token = IntegrationToken(name=name, **kw)
    key = token.issue_key()
    token.save()
    return token, key


@pytest.fixture
def key():
    return make_token()[1]


@pytest.fixture
def plan():
    plan = make_plan()
    us = make_territory(plan, code="US", name="United States",
                        rule={"all": [{"field": "country", "op": "eq", "value": "US"}]})
    west = make_territory(plan, code="US-WEST", name="US West", parent=us,
                          rule={"all": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]}]})
    big = make_territory(plan, code="US-ENT", name="US Enterprise", type="hybrid", priority=5,
                         rule={"all": [{"field": "country", "op": "eq", "value": "US"},
                                       {"field": "employees", "op": "gte", "value": 5000}]})
    overlay = make_territory(plan, code="HC-OVERLAY", name="Healthcare specialists", rule=HEALTH,
                             is_overlay=True, credit_percent=40)
    wendy = make_user(username="wendy")
    assign(west, wendy)
    plan.t = {"us": us, "west": west, "ent": big, "overlay": overlay}
    plan.wendy = wendy
    return plan


def post(client: Client, url: str, body, key: str | None = None, **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    if key is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.generic("POST", url, data, content_type="application/json", **extra)


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


# --- bad input -----------------------------------------------------------------------------------

BAD_FIELDS = [
    ({"employees": -1}, "employees", "zero or more"),
    ({"employees": 2.5}, "employees", "whole number"),
    ({"employees": "250"}, "employees", "whole number"),
    ({"employees": True}, "employees", "whole number"),
    ({"employees": 10**30}, "employees", "at most"),
    ({"employees": int("9" * 100)}, "employees", "at most"),
    ({"employees": [1]}, "employees", "whole number"),
    ({"employees": {"n": 1}}, "employees", "whole number"),
    ({"annual_revenue": -5}, "annual_revenue", "zero or more"),
    ({"annual_revenue": "NaN"}, "annual_revenue", "number"),
    ({"annual_revenue": "Infinity"}, "annual_revenue", "number"),
    ({"annual_revenue": "-1"}, "annual_revenue", "number"),
    ({"annual_revenue": "1e5"}, "annual_revenue", "number"),
    ({"annual_revenue": "12,000"}, "annual_revenue", "number"),
    ({"annual_revenue": 10**20}, "annual_revenue", "at most"),
    ({"annual_revenue": False}, "annual_revenue", "number"),
    ({"annual_revenue": {"amount": 5}}, "annual_revenue", "number"),
    ({"country": "USA"}, "country", "alpha-2"),
    ({"country": "U1"}, "country", "alpha-2"),
    ({"country": "ü"}, "country", "alpha-2"),
    ({"country": 1}, "country", "string"),
    ({"country": ["US"]}, "country", "string"),
    ({"state": "CA"}, "state", "US-CA"),
    ({"state": "US-CALIF"}, "state", "US-CA"),
    ({"state": "US_CA"}, "state", "US-CA"),
    ({"country": "DE", "state": "US-CA"}, "state", "not in country DE"),
    ({"region": "EUROPE"}, "region", "AMER, EMEA, APAC"),
    ({"region": {"code": "EMEA"}}, "region", "string"),
    ({"industry": 622110}, "industry", "not a number"),
    ({"industry": "62 21"}, "industry", "industry code"),
    ({"industry": "6" * 17}, "industry", "at most 16 characters"),
    ({"postal_code": 94105}, "postal_code", "leading zeros"),
    ({"postal_code": "9" * 17}, "postal_code", "at most 16"),
    ({"city": "x" * 121}, "city", "at most 120"),
    ({"metro": "x" * 65}, "metro", "at most 64"),
    ({"company": "x" * 201}, "company", "at most 200"),
    ({"name": "x" * 201}, "name", "at most 200"),
    ({"name": "Acme", "company": "Other"}, "name", "same field"),
    ({"city": "Zürich\x00"}, "city", "control characters"),
    ({"city": "bad \ud800 surrogate"}, "city", "Unicode"),
    ({"city": True}, "city", "string"),
    ({"city": {"nested": {"deep": [1, 2]}}}, "city", "string"),
]


@pytest.mark.parametrize(("body", "field", "fragment"), BAD_FIELDS)
def test_route_rejects_bad_fields_with_a_field_message(client, key, plan, body, field, fragment):
    response = post(client, ROUTE, body, key)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert field in errors and any(fragment in message for message in errors[field]), errors


LEAD_BAD_FIELDS = [
    ({"email": "not-an-email"}, "email", "valid email"),
    ({"email": "a@b"}, "email", "valid email"),
    ({"email": "x" * 250 + "@example.com"}, "email", "at most 254"),
    ({"email": 5}, "email", "string"),
    ({"status": "won"}, "status", "new, working"),
    ({"first_name": "x" * 101}, "first_name", "at most 100"),
    ({"last_name": ["Lo"]}, "last_name", "string"),
    ({"source": "s" * 61}, "source", "at most 60"),
    ({"annual_revenue": 10.123}, "annual_revenue", "2 decimal places"),
]


@pytest.mark.parametrize(("body", "field", "fragment"), LEAD_BAD_FIELDS)
def test_leads_reject_bad_fields(client, key, plan, body, field, fragment):
    response = post(client, LEADS, {"company": "Acme", **body}, key)
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert any(fragment in message for message in errors[field]), errors
    assert Lead.objects.count() == 0


def test_every_field_error_is_reported_at_once(client, key, plan):
    errors = post(client, LEADS, {"company": "", "email": "nope", "employees": -3, "country": "USA"},
                  key).json()["errors"]
    assert set(errors) == {"company", "email", "employees", "country"}


def test_unknown_fields_are_rejected_with_the_allowed_list(client, key, plan):
    errors = post(client, ROUTE, {"country": "US", "colour": "blue", "id": 4}, key).json()["errors"]
    assert set(errors) == {"colour", "id"}
    assert "Allowed fields:" in errors["colour"][0] and "annual_revenue" in errors["colour"][0]
    # Lead-only fields are unknown to the route endpoint.
    assert "email" in post(client, ROUTE, {"email": "a@b.example"}, key).json()["errors"]
    many = {f"k{i}": 1 for i in range(100)}
    errors = post(client, ROUTE, many, key).json()["errors"]
    assert len(errors) == api_input.MAX_REPORTED_UNKNOWN + 1 and "100 unknown fields" in errors["body"][0]
    long_key = post(client, ROUTE, {"k" * 5000: 1}, key).json()["errors"]
    assert all(len(k) <= 64 for k in long_key)


BAD_BODIES = [
    b"",
    b"   ",
    b"not json",
    b"{",
    b'{"country": "US",}',
    b"{'country': 'US'}",
    b"null",
    b"true",
    b"42",
    b'"a string"',
    b"[]",
    b'[{"country": "US"}]',
    b'{"employees": NaN}',
    b'{"employees": Infinity}',
    b'{"annual_revenue": -Infinity}',
    b'{"country": "US", "country": "DE"}',
    b"\xff\xfe{}",
    b'{"city": "\xc3\x28"}',
    b"[" * 30000 + b"]" * 30000,
    b'{"a":' * 10000 + b"1" + b"}" * 10000,
    b'{"annual_revenue": 1e999999999}',
    b'{"employees": 1e999999999}',
    b'{"employees": ' + b"9" * 50000 + b"}",
    b'{"annual_revenue": 1e-999999999}',
    '{"city": "\u0000"}'.encode(),
    b'{"city": "\\u0000"}',
    b'{"city": "\\ud83d"}',
    json.dumps({"city": "東京", "country": "JP", "metro": "🗼"}).encode(),
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=range(len(BAD_BODIES)))
@pytest.mark.parametrize("url", [ROUTE, LEADS])
def test_bad_bodies_get_json_answers_never_500(client, key, plan, body, url):
    response = post(client, url, body, key)
    assert response.status_code in (200, 201, 400), response.content[:300]
    payload = response.json()
    if response.status_code == 400:
        assert isinstance(payload["errors"], dict) and payload["errors"]
        assert all(isinstance(m, list) and all(isinstance(s, str) for s in m) for m in payload["errors"].values())


def test_non_object_bodies_say_what_they_got(client, key, plan):
    assert "not an array" in post(client, ROUTE, b"[]", key).json()["errors"]["body"][0]
    assert "not null" in post(client, ROUTE, b"null", key).json()["errors"]["body"][0]
    assert "empty" in post(client, ROUTE, b"", key).json()["errors"]["body"][0]
    assert "NaN" in post(client, ROUTE, b'{"employees": NaN}', key).json()["errors"]["body"][0]
    errors = post(client, ROUTE, b'{"country": "US", "country": "DE"}', key).json()["errors"]
    assert "more than once" in errors["country"][0]


def test_unicode_text_is_kept(client, key, plan):
    body = post(client, LEADS, {"company": "Société Générale ✓", "city": "Zürich", "first_name": "Zoë"}, key).json()
    assert Lead.objects.get(pk=body["id"]).company == "Société Générale ✓"


def test_values_are_normalised(client, key, plan):
    body = post(client, LEADS, {"company": "  Acme  ", "country": " us ", "state": "us-or", "region": "Americas",
                                "employees": 300.0, "annual_revenue": 1000, "status": "NEW"}, key).json()
    lead = Lead.objects.get(pk=body["id"])
    assert (lead.company, lead.country, lead.state, lead.region) == ("Acme", "US", "US-OR", "AMER")
    assert lead.employees == 300 and str(lead.annual_revenue) == "1000.00"
    assert body["territory"]["code"] == "US-WEST"


def test_country_must_be_known_when_reference_geography_is_loaded(client, key, plan):
    GeoArea.objects.create(level=GeoArea.Level.COUNTRY, code="US", name="United States", country="US")
    api_input.forget_known_countries()
    assert post(client, ROUTE, {"country": "us"}, key).status_code == 200
    errors = post(client, ROUTE, {"country": "XX"}, key).json()["errors"]
    assert errors["country"] == ['Unknown country code "XX".']


def test_unknown_country_refused_on_a_freshly_booted_machine(client, key, plan, monkeypatch):
    # time.monotonic() counts from boot: two minutes after boot it reads 120.0. "Never loaded"
    # must not look like a fresh load, or the empty cache accepts any country.
    monkeypatch.setattr(api_input.time, "monotonic", lambda: 120.0)
    GeoArea.objects.create(level=GeoArea.Level.COUNTRY, code="US", name="United States", country="US")
    api_input.forget_known_countries()
    assert api_input.known_countries() == frozenset({"US"})
    errors = post(client, ROUTE, {"country": "XX"}, key).json()["errors"]
    assert errors["country"] == ['Unknown country code "XX".']


def test_body_over_64_kb_gets_413(client, key, plan):
    big = json.dumps({"city": "x" * (65 * 1024)})
    response = post(client, ROUTE, big, key)
    assert response.status_code == 413 and "64 KB" in response.json()["error"]
    # A body bigger than Django's own upload limit answers the same, not an HTML 400.
    response = post(client, LEADS, b"{" + b" " * (3 * 1024 * 1024) + b"}", key)
    assert response.status_code == 413 and response.json()["error"]


def test_a_lying_content_length_is_handled(client, key, plan):
    response = post(client, ROUTE, b'{"country": "US"}', key, CONTENT_LENGTH="banana")
    assert response.status_code in (200, 400)
    response.json()


# --- authentication and methods -----------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Token abc", "Bearer a b", "Bearer sos_unknown",
     "Bearer " + "x" * 5000, "Bearer ключ"],
)
@pytest.mark.parametrize("url", [ROUTE, LEADS])
def test_missing_or_bad_credentials_get_401_with_a_challenge(client, plan, header, url):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = post(client, url, {"company": "Acme"}, **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert isinstance(response.json()["error"], str)
    assert Lead.objects.count() == 0


def test_scheme_is_case_insensitive(client, key, plan):
    response = post(client, ROUTE, {}, HTTP_AUTHORIZATION=f"bearer {key}")
    assert response.status_code == 200


def test_revoked_token_gets_401(client, plan):
    token, key = make_token()
    assert post(client, ROUTE, {}, key).status_code == 200
    token.revoked_at = timezone.now()
    token.save()
    response = post(client, ROUTE, {}, key)
    assert response.status_code == 401 and "revoked" in response.json()["error"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method", ["GET", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@pytest.mark.parametrize("url", [ROUTE, LEADS])
def test_other_methods_get_405_json(client, key, method, url):
    response = client.generic(method, url, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 405 and response["Allow"] == "POST"
    if method != "HEAD":
        assert "not allowed" in response.json()["error"]


def test_csrf_is_not_required(key, plan):
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, ROUTE, {"country": "US"}, key).status_code == 200


def test_unknown_api_paths_answer_json_404(client):
    response = client.get("/api/v1/nothing")
    assert response.status_code == 404 and "Endpoints" in response.json()["error"]
    assert post(client, "/api/v1/route/", {}, None).status_code == 401  # trailing slash is the same endpoint


def test_last_used_is_written_at_most_once_a_minute(client, plan):
    token, key = make_token()
    assert token.last_used_at is None
    post(client, ROUTE, {}, key)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    post(client, ROUTE, {}, key)
    token.refresh_from_db()
    assert token.last_used_at == first
    IntegrationToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    post(client, ROUTE, {}, key)
    token.refresh_from_db()
    assert token.last_used_at > first - dt.timedelta(minutes=1)


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


# --- unknown paths, methods, chunked bodies --------------------------------------------------------


def test_a_post_to_an_unknown_api_path_answers_the_json_404_not_a_csrf_page(key):
    strict = Client(enforce_csrf_checks=True)
    for method in ("POST", "PUT", "DELETE"):
        response = strict.generic(method, "/api/v1/routes", "{}", content_type="application/json",
                                  HTTP_AUTHORIZATION=f"Bearer {key}")
        assert response.status_code == 404, method
        assert response["Content-Type"] == "application/json"
        assert "Endpoints" in response.json()["error"]


def test_wrong_method_without_credentials_is_json_405(client):
    response = client.get(ROUTE)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "not allowed" in response.json()["error"]


def _chunked(client, url, body: bytes, key, *, terminated=True):
    # What gunicorn hands Django for "Transfer-Encoding: chunked": the decoded body on
    # wsgi.input, no CONTENT_LENGTH, and wsgi.input_terminated set.
    extra = {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked", "wsgi.input": io.BytesIO(body)}
    if terminated:
        extra["wsgi.input_terminated"] = True
    return client.generic("POST", url, b"", content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {key}", **extra)


def test_a_chunked_body_is_read_not_taken_as_empty(client, key, plan):
    response = _chunked(client, ROUTE, json.dumps({"country": "US", "state": "US-CA"}).encode(), key)
    assert response.status_code == 200, response.content
    assert response.json()["territory"]["code"] == "US-WEST"
    created = _chunked(client, LEADS, json.dumps({"company": "Chunky"}).encode(), key)
    assert created.status_code == 201 and Lead.objects.filter(company="Chunky").exists()


def test_a_chunked_body_over_64_kb_gets_413(client, key, plan):
    body = json.dumps({"company": "x" * (api_input.MAX_BODY_BYTES + 10)}).encode()
    assert _chunked(client, ROUTE, body, key).status_code == 413


def test_a_chunked_body_the_server_cannot_frame_gets_411(client, key, plan):
    response = _chunked(client, ROUTE, b'{"country": "US"}', key, terminated=False)
    assert response.status_code == 411 and "Content-Length" in response.json()["error"]


# --- rate limits -------------------------------------------------------------------------------


def test_guessed_keys_from_one_address_get_429_long_before_300(client, plan, settings):
    assert settings.API_RATE_LIMIT_AUTH_FAILURES == "20/minute"
    statuses = [post(client, ROUTE, {}, f"sos_guess{n}", REMOTE_ADDR="203.0.113.9").status_code
                for n in range(300)]
    first_429 = statuses.index(429)
    assert first_429 == 20 and set(statuses[:20]) == {401} and set(statuses[20:]) == {429}
    refused = post(client, ROUTE, {}, "sos_guess-again", REMOTE_ADDR="203.0.113.9")
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert "Retry after" in refused.json()["error"]
    # Another address is not affected.
    assert post(client, ROUTE, {}, "sos_other", REMOTE_ADDR="203.0.113.10").status_code == 401


def test_requests_per_token_are_limited_from_any_address(client, key, plan, settings):
    settings.API_RATE_LIMIT_PER_TOKEN = "3/minute"
    statuses = [post(client, ROUTE, {"country": "US"}, key, REMOTE_ADDR=f"198.51.100.{n}").status_code
                for n in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    other_key = make_token("Other")[1]
    assert post(client, ROUTE, {"country": "US"}, other_key).status_code == 200


def test_requests_per_address_are_limited_across_tokens_and_paths(client, key, plan, settings):
    settings.API_RATE_LIMIT_PER_ADDRESS = "4/minute"
    other_key = make_token("Other")[1]
    answers = [
        post(client, ROUTE, {"country": "US"}, key),
        post(client, ROUTE, {"country": "US"}, other_key),
        client.get("/api/v1/nothing"),
        post(client, LEADS, {"company": "A"}, key),
        post(client, ROUTE, {"country": "US"}, other_key),
        client.post("/api/v1/nothing"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 201, 429, 429]
    assert answers[4]["Content-Type"] == "application/json" and int(answers[4]["Retry-After"]) >= 1
    assert Lead.objects.count() == 1


def test_a_window_that_ends_starts_again(client, key, plan, settings, monkeypatch):
    import time as time_module

    settings.API_RATE_LIMIT_PER_TOKEN = "2/minute"
    assert [post(client, ROUTE, {}, key).status_code for _ in range(3)] == [200, 200, 429]
    later = time_module.time() + 61
    monkeypatch.setattr("routing.ratelimit.time.time", lambda: later)
    assert post(client, ROUTE, {}, key).status_code == 200


def test_an_empty_limit_setting_turns_it_off(client, plan, settings):
    settings.API_RATE_LIMIT_AUTH_FAILURES = ""
    assert {post(client, ROUTE, {}, f"sos_guess{n}").status_code for n in range(30)} == {401}
