"""Rate limits of the lead-routing API, with the ``limits`` library's fixed-window strategy.

The counters live in the database (``ApiRateCounter``), updated by one atomic upsert per hit
(``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``, on PostgreSQL and SQLite alike), so every
gunicorn process and every machine counts against the same number; ``limits``' in-memory storage
would give each process its own allowance. Three limits, each a ``limits`` string such as
``"120/minute"`` from settings (see the README):

- ``API_RATE_LIMIT_PER_ADDRESS``: every request from one client address;
- ``API_RATE_LIMIT_AUTH_FAILURES``: requests from one address whose key was missing, unknown or
  revoked; past it they answer 429 instead of 401, so guessing keys stops early;
- ``API_RATE_LIMIT_PER_TOKEN``: requests made with one integration key, from any address.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import DatabaseError, connection
from limits import RateLimitItem, parse
from limits.storage import Storage
from limits.strategies import FixedWindowRateLimiter

from routing.models import ApiRateCounter

# About one hit in this many also deletes windows that ended an hour ago or more.
PRUNE_EVERY = 1000


class DatabaseStorage(Storage):
    """A ``limits`` storage over the ``ApiRateCounter`` table (fixed windows only)."""

    STORAGE_SCHEME = ["salesos-db"]

    @property
    def base_exceptions(self) -> type[Exception]:
        return DatabaseError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        if random.randrange(PRUNE_EVERY) == 0:
            ApiRateCounter.objects.filter(expires_at__lt=now - 3600).delete()
        # A window that has ended starts again at `amount`; otherwise the count grows by it.
        table, key_, count, expires = (connection.ops.quote_name(name) for name in (
            ApiRateCounter._meta.db_table, "key", "count", "expires_at"))
        sql = (
            f"INSERT INTO {table} ({key_}, {count}, {expires}) VALUES (%s, %s, %s) "
            f"ON CONFLICT ({key_}) DO UPDATE SET "
            f"{count} = CASE WHEN {table}.{expires} <= %s THEN %s ELSE {table}.{count} + %s END, "
            f"{expires} = CASE WHEN {table}.{expires} <= %s THEN %s ELSE {table}.{expires} END "
            f"RETURNING {count}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [key, amount, now + expiry, now, amount, amount, now, now + expiry])
            row = cursor.fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        row = ApiRateCounter.objects.filter(key=key, expires_at__gt=time.time()).values_list("count", flat=True)
        return next(iter(row), 0)

    def get_expiry(self, key: str) -> float:
        row = ApiRateCounter.objects.filter(key=key).values_list("expires_at", flat=True)
        return next(iter(row), time.time())

    def check(self) -> bool:
        try:
            ApiRateCounter.objects.exists()
        except DatabaseError:
            return False
        return True

    def reset(self) -> int | None:
        deleted, _ = ApiRateCounter.objects.all().delete()
        return deleted

    def clear(self, key: str) -> None:
        ApiRateCounter.objects.filter(key=key).delete()


@cache
def _limiter() -> FixedWindowRateLimiter:
    return FixedWindowRateLimiter(DatabaseStorage())


@cache
def _item(text: str, namespace: str) -> RateLimitItem:
    item = parse(text)
    item.namespace = namespace
    return item


def configured(setting: str) -> RateLimitItem | None:
    """The limit a setting names, or None when it is empty (that limit is off)."""
    text = getattr(settings, setting, "")
    return _item(text, setting) if text else None


@dataclass(frozen=True, slots=True)
class Exceeded:
    retry_after: int
    message: str


def _exceeded(item: RateLimitItem, identifier: str, what: str) -> Exceeded:
    reset_at, _ = _limiter().get_window_stats(item, identifier)
    retry_after = max(1, math.ceil(reset_at - time.time()))
    return Exceeded(retry_after, f"Too many requests {what} (limit {item}). Retry after {retry_after} s.")


def hit(setting: str, identifier: str, what: str) -> Exceeded | None:
    """Counts one request against the limit; ``Exceeded`` once it is over."""
    item = configured(setting)
    if item is None or _limiter().hit(item, identifier):
        return None
    return _exceeded(item, identifier, what)
