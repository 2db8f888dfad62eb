"""Who may call the lead-routing API and how: keys, methods, unknown paths, chunked bodies, rate
limits."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from routing import api_input
from routing.models import IntegrationToken
from salesos.models import Lead
from tests.routing.api.client import LEADS, ROUTE, make_token, post

pytestmark = pytest.mark.django_db


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
