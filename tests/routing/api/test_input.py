"""Every bad input to the lead-routing API is answered with JSON field messages, never a 500."""

from __future__ import annotations

import json

import pytest

from routing import api_input
from salesos.models import GeoArea, Lead
from tests.routing.api.client import LEADS, ROUTE, post

pytestmark = pytest.mark.django_db


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
