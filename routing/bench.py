"""The routing benchmark behind ``manage.py bench_routing``: a synthetic plan and accounts in the
configured database, then timings of the engine, the lead-routing API, a full and a
changed-territory re-route, against a floor measured in the same run.

Meant for a scratch database (``createdb salesos_bench`` then ``migrate``): everything it creates
is marked (accounts with a ``.bench.example`` domain, the plan "Benchmark plan", users
``bench-rep-*``) and removed at the end unless ``keep``. It refuses to run where other accounts
exist unless forced, and then touches only its own rows. The real active plan is archived for
the run and restored afterwards (one plan may be active at a time).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import random
import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.utils import override_settings
from django.urls import Resolver404, resolve
from django.utils import timezone

from routing import batch, services
from routing.models import AccountTerritory, IntegrationToken, RoutingDecision
from salesos.models import Account
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()

BENCH_DOMAIN = ".bench.example"
BENCH_PLAN = "Benchmark plan"
BENCH_USER_PREFIX = "bench-rep-"
BENCH_TOKEN = "Routing benchmark"
API_PATH = "/api/v1/route"
# The routable fields the API accepts (leads have no domain).
API_FIELDS = frozenset({"country", "region", "state", "city", "metro", "postal_code", "industry", "employees",
                        "annual_revenue", "name"})

REGIONS = ("AMER", "EMEA", "APAC")
SECTORS = ("11", "21", "22", "23", "31", "42", "44", "48", "51", "52", "53", "54", "56", "61", "62", "71")
METROS = ("", "", "", "Metro A", "Metro B", "Metro C")


class BenchRefused(Exception):
    """The database holds data that is not the benchmark's."""


def _cond(field_name: str, op: str, value: Any) -> dict:
    return {"field": field_name, "op": op, "value": value}


def foreign_accounts() -> int:
    return Account.objects.exclude(domain__endswith=BENCH_DOMAIN).count()


# --- the plan --------------------------------------------------------------------------------


@dataclass
class Shape:
    """What the synthetic plan covers, so accounts can be generated to match it."""

    countries: list[str]
    states_per_country: int
    territory_ids: list[int] = field(default_factory=list)
    leaf_ids: list[int] = field(default_factory=list)  # postal territories (the "changed" one)


def _shape(territories: int) -> tuple[int, int, int, int]:
    """(countries, states per country, named lists, root size bands) for about M territories."""
    bands = 20 if territories >= 400 else 4
    named = max(1, territories // 20)
    left = max(17, territories - 3 - bands - named)
    states = 20 if left >= 20 * 161 else max(1, min(20, (left - 1) // (8 * 3)))
    countries = max(1, left // (1 + 8 * states))
    return countries, states, named, bands


def build_plan(*, territories: int, seed: int, account_ids: list[int], users: list[int]) -> tuple[TerritoryPlan, Shape]:
    rng = random.Random(seed)
    n_countries, n_states, n_named, n_bands = _shape(territories)
    letters = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXY" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    shape = Shape(countries=letters[:n_countries], states_per_country=n_states)
    plan = TerritoryPlan.objects.create(
        name=BENCH_PLAN, status=TerritoryPlan.Status.ACTIVE, effective_date=timezone.localdate(),
        description="Synthetic plan made by manage.py bench_routing",
    )
    seq = iter(range(1, 10**9))

    def level(rows: list[dict]) -> list[Territory]:
        made = [
            Territory(plan=plan, code=row.pop("code", None) or f"B{next(seq):06d}", name=row.pop("name", "Bench"),
                      **row)
            for row in rows
        ]
        return Territory.objects.bulk_create(made, batch_size=2000)

    regions = level([{"code": r, "name": r, "rule": _cond("region", "eq", r)} for r in REGIONS])
    country_rows = [
        {"code": c, "name": f"Country {c}", "parent": regions[i % 3], "rule": _cond("country", "eq", c), "priority": 1}
        for i, c in enumerate(shape.countries)
    ]
    countries = level(country_rows)
    states = level([
        {"code": f"{c.code}-{s:02d}", "name": f"State {c.code}-{s:02d}", "parent": c,
         "rule": _cond("state", "eq", f"{c.code}-{s:02d}"), "priority": 1}
        for c in countries for s in range(n_states)
    ])
    children: list[dict] = []
    for st in states:
        s = int(st.code[-2:])
        for p in range(3):  # postal sectors, one with a size floor
            rule: dict = _cond("postal_code", "prefix", [f"{s:02d}{p}", f"{s:02d}{p + 5}"])
            if p == 2:
                rule = {"all": [rule, _cond("employees", "gte", 50)]}
            children.append({"parent": st, "rule": rule, "priority": 2, "name": f"{st.code} postal {p}"})
        for h in range(2):  # hybrid industry x size
            children.append({"parent": st, "type": Territory.Type.HYBRID, "priority": rng.randint(0, 3),
                             "name": f"{st.code} hybrid {h}", "rule": {"all": [
                                 _cond("industry", "in", rng.sample(SECTORS, 3)),
                                 _cond("employees", "between", [100, 100_000])]}})
        children.append({"parent": st, "type": Territory.Type.SIZE, "name": f"{st.code} enterprise",
                         "rule": {"any": [_cond("employees", "gte", 5000),
                                          _cond("annual_revenue", "gt", 1_000_000_000)]}})
        children.append({"parent": st, "type": Territory.Type.INDUSTRY, "is_overlay": True,
                         "name": f"{st.code} specialist", "credit_percent": rng.choice((10, 20, 50)),
                         "rule": _cond("industry", "in", [rng.choice(SECTORS)])})
    leaves = level(children)
    shape.leaf_ids = [t.pk for t in leaves if t.type == Territory.Type.GEOGRAPHIC]
    bands = level([
        {"code": f"BAND-{b:02d}", "name": f"Size band {b}", "type": Territory.Type.SIZE, "priority": -1,
         "rule": _cond("employees", "between", [b * 1000, b * 1000 + 999])}
        for b in range(n_bands)
    ])
    made = len(regions) + len(countries) + len(states) + len(leaves) + len(bands)
    named = level([
        {"code": f"NAMED-{i:05d}", "name": f"Named list {i}", "type": Territory.Type.NAMED_ACCOUNT, "priority": 5}
        for i in range(max(n_named, territories - made))
    ])
    through = Territory.named_accounts.through
    pool = account_ids if len(account_ids) >= 20 else account_ids * 20
    through.objects.bulk_create(
        [through(territory_id=t.pk, account_id=a) for t in named for a in set(rng.sample(pool, min(20, len(pool))))],
        batch_size=5000,
    )
    every = regions + countries + states + leaves + bands + named
    shape.territory_ids = [t.pk for t in every]
    today = timezone.localdate()
    RepAssignment.objects.bulk_create(
        [RepAssignment(territory=t, user_id=users[i % len(users)], slot=RepAssignment.Slot.PRIMARY, start_date=today)
         for i, t in enumerate(every) if not t.is_overlay],
        batch_size=5000,
    )
    return plan, shape


# --- the accounts ----------------------------------------------------------------------------

_ACCOUNT_COLUMNS = (
    "name", "domain", "status", "country", "region", "state", "city", "metro", "postal_code", "industry_code",
    "employees", "annual_revenue", "created_at", "updated_at",
)


def _account_rows(n: int, shape: Shape, seed: int):
    rng = random.Random(seed)
    now = timezone.now()
    countries = shape.countries
    for i in range(n):
        if rng.random() < 0.03:  # outside every territory: the unassigned queue
            country, region, state, s = "ZZ", "", "", rng.randrange(100)
        else:
            c = rng.randrange(len(countries))
            country, region = countries[c], REGIONS[c % 3]
            s = rng.randrange(shape.states_per_country)
            state = f"{country}-{s:02d}"
        employees = None if rng.random() < 0.1 else int(rng.lognormvariate(4.5, 1.6))
        revenue = None if rng.random() < 0.2 else Decimal(int(rng.lognormvariate(16, 2.2))).quantize(Decimal("0.01"))
        yield (
            f"Bench account {i}", f"a{i}{BENCH_DOMAIN}", "prospect", country, region, state,
            "", rng.choice(METROS), f"{s % 100:02d}{rng.randrange(1000):03d}",
            rng.choice(SECTORS) + str(rng.randrange(10, 9999)), employees, revenue, now, now,
        )


def insert_accounts(n: int, shape: Shape, seed: int) -> None:
    rows = _account_rows(n, shape, seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            sql = f"COPY {Account._meta.db_table} ({', '.join(_ACCOUNT_COLUMNS)}) FROM STDIN"
            with cursor.connection.cursor().copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    batch_rows: list[Account] = []
    for row in rows:
        batch_rows.append(Account(**dict(zip(_ACCOUNT_COLUMNS, row, strict=True))))
        if len(batch_rows) == 5000:
            Account.objects.bulk_create(batch_rows)
            batch_rows = []
    Account.objects.bulk_create(batch_rows)


# --- cleaning up -----------------------------------------------------------------------------


def cleanup() -> None:
    """Removes everything a previous run left (only benchmark rows)."""
    plans = list(TerritoryPlan.objects.filter(name=BENCH_PLAN).values_list("pk", flat=True))
    at = AccountTerritory._meta.db_table
    acc = Account._meta.db_table
    through = Territory.named_accounts.through
    with transaction.atomic(), connection.cursor() as cursor:
        if plans:
            marks = ",".join("%s" for _ in plans)
            cursor.execute(f"DELETE FROM {at} WHERE plan_id IN ({marks})", plans)
            through.objects.filter(territory__plan_id__in=plans).delete()
            RepAssignment.objects.filter(territory__plan_id__in=plans).delete()
            # Other accounts may be locked to benchmark territories (after --force); ours go anyway.
            others = Account.objects.exclude(domain__endswith=BENCH_DOMAIN)
            others.filter(locked_territory__plan_id__in=plans).update(locked_territory=None)
            cursor.execute(f"DELETE FROM {RoutingDecision._meta.db_table} WHERE plan_id IN ({marks})", plans)
            # Raw deletes: Django's would load every territory and add history rows.
            territory_table = Territory._meta.db_table
            cursor.execute(f"UPDATE {territory_table} SET parent_id = NULL WHERE plan_id IN ({marks})", plans)
            cursor.execute(f"DELETE FROM {territory_table} WHERE plan_id IN ({marks})", plans)
            TerritoryPlan.history.filter(id__in=plans).delete()
            cursor.execute(f"DELETE FROM {TerritoryPlan._meta.db_table} WHERE id IN ({marks})", plans)
        bench_accounts = f"SELECT id FROM {acc} WHERE domain LIKE %s"
        cursor.execute(f"DELETE FROM {at} WHERE account_id IN ({bench_accounts})", [f"%{BENCH_DOMAIN}"])
        cursor.execute(f"DELETE FROM {through._meta.db_table} WHERE account_id IN ({bench_accounts})",
                       [f"%{BENCH_DOMAIN}"])
        cursor.execute(f"DELETE FROM {acc} WHERE domain LIKE %s", [f"%{BENCH_DOMAIN}"])
    IntegrationToken.objects.filter(name=BENCH_TOKEN).delete()
    User.objects.filter(username__startswith=BENCH_USER_PREFIX).delete()


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
    compiled = services.compiled_plan(plan=plan)
    for record in records[:1000]:  # warm
        compiled.resolve(record)
    clock = time.perf_counter_ns
    timings = []
    for record in records:
        begin = clock()
        compiled.resolve(record)
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


def change_one_rule(plan: TerritoryPlan, shape: Shape, seed: int) -> Territory:
    """Moves one postal territory to other prefixes (what an admin editing a rule does)."""
    rng = random.Random(seed)
    territory = Territory.objects.get(pk=rng.choice(shape.leaf_ids))
    prefixes = territory.rule["value"] if "value" in territory.rule else territory.rule["all"][0]["value"]
    state = prefixes[0][:2]
    new = [f"{state}{d}" for d in (3, 4, 8, 9) if f"{state}{d}" not in prefixes][:2]
    Territory.objects.filter(pk=territory.pk).update(rule=_cond("postal_code", "prefix", new))
    services.plan_touch(plan=plan)
    return territory


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


def run(
    *,
    accounts: int,
    territories: int,
    seed: int = 1,
    keep: bool = False,
    force: bool = False,
    engine_sample: int = 20_000,
    api_requests: int = 2_000,
    verify: int = 200,
    again: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    say = log or (lambda _msg: None)
    cleanup()
    others = foreign_accounts()
    if others and not force:
        raise BenchRefused(
            f"The database holds {others} accounts that are not the benchmark's. Run it in a scratch database "
            "(see the README), or pass --force to add benchmark rows next to them."
        )
    out: dict[str, Any] = {"accounts": accounts, "territories": 0, "database": connection.vendor, "seed": seed}
    previous = list(TerritoryPlan.objects.filter(status=TerritoryPlan.Status.ACTIVE).values_list("pk", flat=True))
    TerritoryPlan.objects.filter(pk__in=previous).update(status=TerritoryPlan.Status.ARCHIVED)
    try:
        started = time.perf_counter()
        users = [User(username=f"{BENCH_USER_PREFIX}{i}", email=f"rep{i}{BENCH_DOMAIN}") for i in range(200)]
        User.objects.bulk_create(users)
        user_ids = list(User.objects.filter(username__startswith=BENCH_USER_PREFIX).values_list("pk", flat=True))
        n_countries, n_states, _, _ = _shape(territories)
        letters = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXY" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
        shape = Shape(countries=letters[:n_countries], states_per_country=n_states)
        insert_accounts(accounts, shape, seed)
        account_ids = list(Account.objects.filter(domain__endswith=BENCH_DOMAIN).values_list("pk", flat=True))
        plan, shape = build_plan(territories=territories, seed=seed, account_ids=account_ids, users=user_ids)
        rng = random.Random(seed + 7)
        locked = rng.sample(account_ids, max(1, len(account_ids) // 1000))
        for i, account_id in enumerate(locked):  # a few manual overrides
            locked_to = shape.territory_ids[(i * 7919) % len(shape.territory_ids)]
            Account.objects.filter(pk=account_id).update(locked_territory_id=locked_to)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                if not connection.in_atomic_block:  # fresh COPY: set hint bits once, as autovacuum would
                    cursor.execute(f"VACUUM ANALYZE {Account._meta.db_table}")
                cursor.execute(f"ANALYZE {Account._meta.db_table}")
                cursor.execute(f"ANALYZE {AccountTerritory._meta.db_table}")
        out["territories"] = len(shape.territory_ids)
        out["setup_s"] = round(time.perf_counter() - started, 2)
        say(f"setup: {out['setup_s']} s")

        out.update({k: round(v, 3) for k, v in measure_floor(plan.pk, shape.territory_ids[0]).items()})
        say(f"floor: {out['floor_s']} s")

        batch.warm(plan)  # the worker's compiled index is warm
        started = time.perf_counter()
        full = batch.plan_reroute(plan=plan)
        out["reroute_full_s"] = round(time.perf_counter() - started, 3)
        out["reroute_full"] = full.counts()
        out["reroute_full_phases_s"] = full.seconds
        say(f"full re-route: {out['reroute_full_s']} s")
        _analyze()  # what autovacuum does after a bulk load, before anyone queries the new rows
        out["verify_checked"] = out["verify_mismatches"] = 0
        if verify:
            found = verify_sample(plan, verify, seed, from_scratch=True)
            out["verify_checked"], out["verify_mismatches"] = found["checked"], found["mismatches"]

        if again:
            started = time.perf_counter()
            second = batch.plan_reroute(plan=plan)
            out["reroute_again_s"] = round(time.perf_counter() - started, 3)
            out["reroute_again_changed"] = second.changed
            say(f"second full re-route (nothing to change): {out['reroute_again_s']} s")

        out.update(measure_engine(plan, engine_sample, seed))
        out.update(measure_api(api_requests, seed))

        territory = change_one_rule(plan, shape, seed)
        started = time.perf_counter()
        batch.warm(plan)  # what the worker does when the plan's version moves
        out["plan_compile_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        changed = batch.plan_reroute(plan=plan, territory_ids=[territory.pk])
        out["reroute_changed_s"] = round(time.perf_counter() - started, 3)
        out["reroute_changed"] = changed.counts()
        out["reroute_changed_phases_s"] = changed.seconds
        say(f"changed-territory re-route: {out['reroute_changed_s']} s")

        if verify:
            found = verify_sample(plan, verify, seed, from_scratch=False)
            out["verify_checked"] += found["checked"]
            out["verify_mismatches"] += found["mismatches"]
        plan.refresh_from_db()
        out["plan_version"] = plan.version
        out["peak_rss_mb"] = peak_rss_mb()
        if out["floor_s"]:
            out["full_over_floor"] = round(out["reroute_full_s"] / out["floor_s"], 2)
            out["changed_over_floor"] = round(out["reroute_changed_s"] / out["floor_s"], 3)
            out["full_over_floor_bare"] = round(out["reroute_full_s"] / out["floor_bare_s"], 2)
    finally:
        if not keep:
            cleanup()
        elif previous:
            TerritoryPlan.objects.filter(name=BENCH_PLAN).update(status=TerritoryPlan.Status.ARCHIVED)
        TerritoryPlan.objects.filter(pk__in=previous).update(status=TerritoryPlan.Status.ACTIVE)
    return out


def dumps(figures: dict[str, Any]) -> str:
    buffer = io.StringIO()
    json.dump(figures, buffer, separators=(",", ":"), default=str)
    return buffer.getvalue()


__all__ = ["BenchRefused", "run", "dumps", "cleanup", "foreign_accounts", "dt"]
