"""Health checks: is this process able to serve? The database answers and, with ``REDIS_URL``,
the task broker answers.

``/healthz`` is what a load balancer calls: no sign-in, no session, one ``SELECT 1`` and one
Redis ``PING`` (each bounded by a short timeout), and an answer that says nothing but ``ok``
(200) or ``unavailable`` (503). ``HealthCheckMiddleware`` sits first in ``MIDDLEWARE`` and
answers that path itself, so neither the HTTPS redirect nor the host check (health checkers
often call the machine's own address over plain HTTP), sessions, login throttling or the
API rate limits stand in its way. The same broker probe backs the deploy check
``salesos.W001`` (``salesos/checks.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache

import redis
from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

log = logging.getLogger(__name__)

PATH = "/healthz"
TIMEOUT_S = 2.0


def database_ok() -> bool:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        log.warning("Health check: the database does not answer", exc_info=True)
        return False


@cache
def _redis_client(url: str) -> redis.Redis:
    # One client (and its connection pool) per process: a health check reuses its connection.
    return redis.Redis.from_url(url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S)


def broker_ok() -> bool:
    """The task broker answers: Redis when ``REDIS_URL`` is set; otherwise the broker is the
    database, which ``database_ok`` covers."""
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return True
    try:
        return bool(_redis_client(url).ping())
    except (redis.RedisError, OSError, ValueError):
        log.warning("Health check: Redis does not answer", exc_info=True)
        return False


def health_response() -> HttpResponse:
    healthy = database_ok() and broker_ok()
    response = HttpResponse("ok" if healthy else "unavailable", status=200 if healthy else 503,
                            content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers ``GET``/``HEAD /healthz`` before any other middleware runs."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == PATH and request.method in ("GET", "HEAD"):
            return health_response()
        return self.get_response(request)
