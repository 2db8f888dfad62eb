"""/healthz and the broker deploy check: the database and the broker answer, or 503; nothing
else is revealed, and nothing in front of the view (HTTPS redirect, host check, sessions,
throttling) stands in the way of a load balancer's probe."""

from __future__ import annotations

import os

import pytest
import redis
from django.core import checks
from django.db import DatabaseError
from django.test import override_settings

from salesos import health

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")
DEAD_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(autouse=True)
def _fresh_clients():
    health._redis_client.cache_clear()
    yield
    health._redis_client.cache_clear()


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "head"])
def test_healthy_answers_ok_without_sign_in_or_session(client, method, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        response = getattr(client, method)("/healthz")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "sessionid" not in response.cookies and "csrftoken" not in response.cookies
    if method == "get":
        assert response.content == b"ok"


@pytest.mark.django_db
@override_settings(REDIS_URL=DEAD_REDIS)
def test_broker_down_is_503_and_says_nothing_more(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.content == b"unavailable"  # no URL, host, port or exception text


@pytest.mark.django_db
def test_database_down_is_503(client, monkeypatch):
    class Broken:
        def __getitem__(self, alias):
            raise DatabaseError("connection refused")

    monkeypatch.setattr(health, "connections", Broken())
    response = client.get("/healthz")
    assert response.status_code == 503 and response.content == b"unavailable"


@pytest.mark.django_db
def test_redis_broker_up_is_ok(client):
    if not _redis_up():
        pytest.skip(f"no Redis at {REDIS_TEST_URL}")
    with override_settings(REDIS_URL=REDIS_TEST_URL):
        assert client.get("/healthz").content == b"ok"


@pytest.mark.django_db
@override_settings(SECURE_SSL_REDIRECT=True, ALLOWED_HOSTS=["salesos.example.com"])
def test_probe_by_address_over_plain_http_is_answered(client):
    # A load balancer probes the machine's own address over HTTP: no redirect, no 400.
    response = client.get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert response.status_code == 200 and response.content == b"ok"
    # Every other path still gets both protections.
    assert client.get("/login/", HTTP_HOST="10.0.0.7:8000").status_code == 400
    assert client.get("/login/", HTTP_HOST="salesos.example.com").status_code == 301


@pytest.mark.django_db
def test_only_get_and_head(client):
    assert client.post("/healthz").status_code in (403, 405)  # never runs a check for a post
    assert client.get("/healthz/").status_code == 404


def _deploy_warnings() -> list[str]:
    return [m.id for m in checks.run_checks(include_deployment_checks=True) if m.id == "salesos.W001"]


@pytest.mark.django_db
def test_deploy_check_warns_when_redis_is_set_but_unreachable():
    with override_settings(REDIS_URL=DEAD_REDIS):
        assert _deploy_warnings() == ["salesos.W001"]
    with override_settings(REDIS_URL=""):
        assert _deploy_warnings() == []
    if _redis_up():
        with override_settings(REDIS_URL=REDIS_TEST_URL):
            assert _deploy_warnings() == []
