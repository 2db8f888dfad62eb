"""The benchmark's measurements: the floor (touching every account once), the engine one
record at a time, the lead-routing API, and the check of the batch against routing one account
at a time.
"""

from __future__ import annotations

import json
import logging
import random
import resource
import statistics
import time
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone

from routing import engine, services
from routing.models import IntegrationToken
from salesos.models import Account
from territories.models import AccountTerritory, TerritoryPlan

from .marks import BENCH_TOKEN

API_PATH = "/api/v1/route"
# The routable fields the API accepts (leads have no domain).
API_FIELDS = frozenset({"country", "region", "state", "city", "metro", "postal_code", "industry", "employees",
                        "annual_revenue", "name"})

# --- measurements ----------------------------------------------------------------------------


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, max(0, int(round(q * len(sorted_values))) - 1))]


def measure_floor(scratch_plan_id: int, territory_id: int) -> dict[str, float]:
    """The cost of touching every account once: read its routable fields into Python, then COPY
    (PostgreSQL) or executemany (others) one assignment row per account into an empty scratch copy
    of the assignment table. ``floor_s`` uses a copy with the table's indexes and constraints
    (``LIKE ... INCLUDING ALL``), what writing a row into the assignment table costs;
    ``floor_bare_s`` an index-free temporary table, the cheaper bound earlier runs quoted."""
    columns = services.account_value_columns()
    started = time.perf_counter()
    ids: list[int] = []
    last = 0
    while True:
        qs = Account.objects.filter(pk__gt=last).order_by("pk")[:25_000].values_list(*columns)
        if connection.vendor == "postgresql":
            sql, params = qs.query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        else:
            rows = list(qs)
        if not rows:
            break
        last = rows[-1][0]
        ids.extend(r[0] for r in rows)
    read_s = time.perf_counter() - started
    out = {"floor_read_s": read_s}
    out["floor_write_s"] = _scratch_copy(ids, "INCLUDING ALL", scratch_plan_id, territory_id, temporary=False)
    out["floor_bare_write_s"] = _scratch_copy(
        ids, "INCLUDING DEFAULTS INCLUDING IDENTITY", scratch_plan_id, territory_id, temporary=True
    )
    out["floor_s"] = read_s + out["floor_write_s"]
    out["floor_bare_s"] = read_s + out["floor_bare_write_s"]
    return out


def _scratch_copy(ids: list[int], like: str, plan_id: int, territory_id: int, *, temporary: bool) -> float:
    table = AccountTerritory._meta.db_table
    now = timezone.now()
    row = (territory_id, plan_id, True, 100, "rule", False, "", now)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            kind = "TEMP TABLE" if temporary else "TABLE"
            cursor.execute(f"CREATE {kind} bench_scratch (LIKE {table} {like})")
            started = time.perf_counter()
            with cursor.connection.cursor().copy(
                "COPY bench_scratch (account_id, territory_id, plan_id, is_primary, credit_percent, source, "
                "conflict, reason, valid_from) FROM STDIN"
            ) as copy:
                for account_id in ids:
                    copy.write_row((account_id, *row))
            elapsed = time.perf_counter() - started
        else:
            cursor.execute(f"CREATE TEMP TABLE bench_scratch AS SELECT * FROM {table} WHERE 0")
            started = time.perf_counter()
            cursor.executemany(
                "INSERT INTO bench_scratch (account_id, territory_id, plan_id, is_primary, credit_percent, source, "
                "conflict, reason, valid_from) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(a, *row) for a in ids],
            )
            elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_scratch")
    return elapsed


def measure_engine(plan: TerritoryPlan, sample: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    ids = list(Account.objects.values_list("pk", flat=True).order_by("pk"))
    chosen = sorted(rng.sample(ids, min(sample, len(ids))))
    records: list[dict[str, Any]] = []
    for start in range(0, len(chosen), 5000):
        part = chosen[start : start + 5000]
        records.extend(services.record_from_values(v)
                       for v in Account.objects.filter(pk__in=part).values(*services.account_value_columns()))
    compiled = services.plan_index(plan=plan)
    for record in records[:1000]:  # warm
        engine.resolve(compiled, record)
    clock = time.perf_counter_ns
    timings = []
    for record in records:
        begin = clock()
        engine.resolve(compiled, record)
        timings.append((clock() - begin) / 1000)
    timings.sort()
    return {
        "engine_single_p50_us": round(_percentile(timings, 0.50), 1),
        "engine_single_p99_us": round(_percentile(timings, 0.99), 1),
        "engine_single_mean_us": round(statistics.fmean(timings), 1) if timings else 0.0,
        "engine_sample": len(timings),
    }


def api_available() -> bool:
    try:
        resolve(API_PATH)
    except Resolver404:
        return False
    return True


def measure_api(requests: int, seed: int) -> dict[str, Any]:
    if not api_available():
        return {"api_route_p99_ms": None, "api_note": f"{API_PATH} is not routed in this build; not measured"}
    token = IntegrationToken(name=BENCH_TOKEN)
    key = token.issue_key()
    token.save()
    values = list(Account.objects.order_by("?").values(*services.account_value_columns())[:requests])
    client = Client()
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    timings: list[float] = []
    statuses: dict[int, int] = {}
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.CRITICAL)  # a 400 per request would flood the output
    # The rate limits are counted as usual (their cost is part of the latency) but set high
    # enough that the benchmark's burst from one address stays under them.
    unlimited = {name: "1000000/minute" for name in ("API_RATE_LIMIT_PER_ADDRESS", "API_RATE_LIMIT_PER_TOKEN")}
    with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], **unlimited):
        for i, v in enumerate(values + values[: min(100, len(values))]):
            body = {name: v[column] for name, column in services.ACCOUNT_COLUMNS.items()
                    if name in API_FIELDS and v[column] not in (None, "")}
            if "annual_revenue" in body:
                body["annual_revenue"] = str(body["annual_revenue"])
            begin = time.perf_counter()
            response = client.post(API_PATH, json.dumps(body), content_type="application/json", secure=True, **auth)
            elapsed = (time.perf_counter() - begin) * 1000
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if i >= 100 or len(values) <= 100:  # the first hundred warm the process
                timings.append(elapsed)
    request_log.setLevel(level)
    timings.sort()
    out: dict[str, Any] = {
        "api_route_p50_ms": round(_percentile(timings, 0.50), 2),
        "api_route_p99_ms": round(_percentile(timings, 0.99), 2),
        "api_requests": len(timings),
        "api_statuses": {str(k): v for k, v in sorted(statuses.items())},
    }
    if set(statuses) != {200}:
        out["api_note"] = "some requests did not answer 200"
    token.delete()
    return out

def verify_sample(plan: TerritoryPlan, n: int, seed: int, *, from_scratch: bool) -> dict[str, int]:
    """Checks the batch against ``services.account_route`` on ``n`` random accounts, in a
    transaction rolled back afterwards. ``from_scratch``: their rows are deleted and routed again
    one by one, and the rows (with what their decisions store) must come out identical.
    Otherwise account_route runs on top of what the batch left and must find nothing to write
    (after a rule change, rows that did not change keep the decision they were written with)."""
    rng = random.Random(seed)
    every = list(Account.objects.values_list("pk", flat=True))
    ids = sorted(rng.sample(every, min(n, len(every))))

    def snapshot() -> dict[int, Any]:
        rows: dict[int, Any] = {a: [] for a in ids}
        for row in AccountTerritory.objects.filter(account_id__in=ids, plan=plan).values_list(
            "account_id", "territory_id", "is_primary", "credit_percent", "source", "conflict", "decision__matched",
            "decision__locked_territory_id", "valid_to",
        ):
            rows[row[0]].append((*row[1:8], row[8] is None))
        return {a: sorted(rows[a], key=repr) for a in ids}

    batch_view = snapshot()
    mismatches = 0

    class _Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            if from_scratch:
                AccountTerritory.objects.filter(account_id__in=ids, plan=plan).delete()
            for account in Account.objects.filter(pk__in=ids):
                services.account_route(account=account, plan=plan)
            single_view = snapshot()
            mismatches = sum(batch_view[a] != single_view[a] for a in ids)
            raise _Rollback
    except _Rollback:
        pass
    return {"checked": len(ids), "mismatches": mismatches}


def _analyze() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {AccountTerritory._meta.db_table}")
            cursor.execute(f"ANALYZE {Account._meta.db_table}")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
