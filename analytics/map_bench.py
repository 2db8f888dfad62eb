"""The map benchmark behind ``manage.py bench_map``: N located accounts around real US ZIP codes
and world metros, a plan of region, country, state and ZIP-prefix territories (plus industry and
size territories drawn from their accounts), routed by the production re-route; then the map's
endpoints timed through the full Django stack as an admin (the widest scope).

Meant for a scratch database, like ``bench_routing``, and marked the same way (``routing.bench``:
accounts with its domain, its plan name, its user prefix), so ``routing.bench.cleanup`` removes
everything it made and it refuses to run beside real accounts. The reference data must be loaded
(``manage.py load_reference``): accounts sit at real ZIP and metro centroids.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from analytics.geo import boundaries_cache_key
from analytics.map_layers import map_layer_build
from analytics.map_points import point_table, point_table_clear
from analytics.models import MapLayer
from routing import batch
from routing.bench import BENCH_DOMAIN, BENCH_PLAN, BENCH_USER_PREFIX, BenchRefused, cleanup, foreign_accounts
from routing.engine import condition
from salesos.models import Account, GeoArea, SalesProfile
from salesos.reference import reference_loaded
from territories.models import AccountTerritory, Territory, TerritoryPlan

User = get_user_model()

SECTORS = ("11", "23", "31", "42", "44", "48", "51", "52", "54", "62", "71", "72")
VIEW_PX = (1440, 900)
ZIP_TERRITORIES = 600  # ZIP-prefix territories under the busiest states
# The account columns the generator fills, in the order of its rows (the COPY column list).
_GENERATED_COLUMNS = (
    "name",
    "domain",
    "status",
    "country",
    "region",
    "state",
    "city",
    "metro",
    "postal_code",
    "lat",
    "lon",
    "industry_code",
    "employees",
    "annual_revenue",
    "potential",
    "contact_name",
    "contact_email",
    "created_at",
    "updated_at",
)


def _reference() -> tuple[list[tuple], list[tuple]]:
    """US ZIPs (code, state, lat, lon) and the other countries' metros (country, region, state,
    lat, lon)."""
    zips = list(
        GeoArea.objects.filter(level=GeoArea.Level.POSTAL, centroid_lat__isnull=False).values_list(
            "code", "parent__code", "centroid_lat", "centroid_lon"
        )
    )
    region_of = dict(GeoArea.objects.filter(level=GeoArea.Level.COUNTRY).values_list("code", "parent__code"))
    metros = [
        (country, region_of.get(country) or "", parent if level == GeoArea.Level.STATE else "", lat, lon)
        for country, lat, lon, parent, level in GeoArea.objects.filter(
            level=GeoArea.Level.METRO, centroid_lat__isnull=False
        )
        .exclude(country="US")
        .values_list("country", "centroid_lat", "centroid_lon", "parent__code", "parent__level")
    ]
    return zips, metros


def _rows(n: int, zips: list[tuple], metros: list[tuple], seed: int):
    rng = np.random.default_rng(seed)
    now = timezone.now()
    us = rng.random(n) < 0.7
    zip_pick = rng.integers(0, len(zips), n)
    metro_pick = rng.integers(0, len(metros), n)
    jitter = rng.normal(0, 1, (n, 2))
    employees = np.exp(rng.normal(4.5, 1.6, n)).astype(int) + 1
    revenue = np.exp(rng.normal(16, 2.2, n))
    sector = rng.integers(0, len(SECTORS), n)
    for i in range(n):
        if us[i]:
            code, state, lat, lon = zips[zip_pick[i]]
            lat, lon = lat + jitter[i, 0] * 0.01, lon + jitter[i, 1] * 0.01
            country, region, postal = "US", "AMER", code.split("-", 1)[1]
        else:
            country, region, state, lat, lon = metros[metro_pick[i]]
            lat, lon = lat + jitter[i, 0] * 0.05, lon + jitter[i, 1] * 0.05
            postal = ""
        yield (
            f"Map bench account {i}",
            f"m{i}{BENCH_DOMAIN}",
            "prospect",
            country,
            region,
            state,
            "",
            "",
            postal,
            round(float(max(-85, min(85, lat))), 5),
            round(float(lon), 5),
            SECTORS[sector[i]] + "1110",
            int(employees[i]),
            Decimal(int(revenue[i])),
            Decimal(int(revenue[i] * 3)),
            "",
            "",
            now,
            now,
        )


def insert_accounts(n: int, seed: int) -> None:
    zips, metros = _reference()
    rows = _rows(n, zips, metros, seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            sql = f"COPY {Account._meta.db_table} ({', '.join(_GENERATED_COLUMNS)}) FROM STDIN"
            with cursor.connection.cursor().copy(sql) as copy:
                for row in rows:
                    copy.write_row(row)
        return
    chunk: list[Account] = []
    for row in rows:
        chunk.append(Account(**dict(zip(_GENERATED_COLUMNS, row, strict=True))))
        if len(chunk) == 5000:
            Account.objects.bulk_create(chunk)
            chunk = []
    Account.objects.bulk_create(chunk)


def build_plan() -> TerritoryPlan:
    """Regions > countries (EMEA, APAC) or US states > ZIP-prefix territories, plus an industry
    and a size territory drawn from their accounts."""
    plan = TerritoryPlan.objects.create(
        name=BENCH_PLAN,
        status=TerritoryPlan.Status.ACTIVE,
        effective_date=timezone.localdate(),
        description="Synthetic plan made by manage.py bench_map",
    )
    made: list[Territory] = []

    def add(code: str, name: str, rule: dict, parent: Territory | None = None, **kw: Any) -> Territory:
        t = Territory.objects.create(plan=plan, code=code, name=name, rule=rule, parent=parent, **kw)
        made.append(t)
        return t

    regions = {r: add(r, r, condition("region", "eq", r)) for r in ("AMER", "EMEA", "APAC")}
    us = add("US", "United States", condition("country", "eq", "US"), regions["AMER"], priority=1)
    countries = (
        Account.objects.filter(domain__endswith=BENCH_DOMAIN)
        .exclude(country="US")
        .order_by()
        .values_list("country", "region")
        .distinct()
    )
    for country, region in countries:
        if region in regions:
            add(f"C-{country}", f"Country {country}", condition("country", "eq", country), regions[region], priority=1)
    prefixes: dict[str, list[str]] = {}
    for code, state in GeoArea.objects.filter(level=GeoArea.Level.POSTAL).values_list("code", "parent__code"):
        prefixes.setdefault(state, []).append(code.split("-", 1)[1][:3])
    states = sorted(prefixes, key=lambda s: -len(prefixes[s]))
    per_state = max(1, ZIP_TERRITORIES // max(1, len(states) // 2))
    for i, state in enumerate(states):
        st = add(f"S-{state}", f"State {state}", condition("state", "in", [state]), us, priority=2)
        if i < len(states) // 2:
            distinct = sorted(set(prefixes[state]))
            for j, chunk in enumerate(np.array_split(np.array(distinct), min(per_state, len(distinct)))):
                add(
                    f"Z-{state}-{j}",
                    f"{state} ZIP {chunk[0]}-{chunk[-1]}",
                    condition("postal_code", "prefix", [str(p) for p in chunk]),
                    st,
                    priority=3,
                )
    add("IND-HC", "Healthcare", condition("industry", "in", ["62"]), type=Territory.Type.INDUSTRY, priority=-1)
    add("SIZE-ENT", "Enterprise", condition("employees", "gte", 20_000), type=Territory.Type.SIZE, priority=-1)
    return plan


def _viewport(rng: random.Random, table, zoom: int) -> tuple[float, float, float, float]:
    i = rng.randrange(len(table))
    lon, lat = float(table.lon[i]), float(table.lat[i])
    width = VIEW_PX[0] / 256 / 2**zoom * 360
    height = min(170.0, width * VIEW_PX[1] / VIEW_PX[0] * max(0.2, np.cos(np.radians(lat))))
    return (
        max(-180, lon - width / 2),
        max(-85, lat - height / 2),
        min(180, lon + width / 2),
        min(85, lat + height / 2),
    )


def _analyze(*, vacuum: bool) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        if vacuum and not connection.in_atomic_block:
            cursor.execute(f"VACUUM ANALYZE {Account._meta.db_table}")
        cursor.execute(f"ANALYZE {Account._meta.db_table}")
        cursor.execute(f"ANALYZE {AccountTerritory._meta.db_table}")


def _p95(values: list[float]) -> float:
    return float(np.percentile(np.array(values), 95)) if values else 0.0


def run(
    *,
    accounts: int,
    seed: int = 1,
    viewports: int = 50,
    keep: bool = False,
    force: bool = False,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    say = log or (lambda _msg: None)
    if not reference_loaded():
        raise BenchRefused("Load the reference data first: manage.py load_reference.")
    MapLayer.objects.filter(plan__name=BENCH_PLAN).delete()  # a kept run's layers (the shared cleanup knows routing's)
    cleanup()
    others = foreign_accounts()
    if others and not force:
        raise BenchRefused(
            f"The database holds {others} accounts that are not the benchmark's. Run it in a scratch "
            "database, or pass --force to add benchmark rows next to them."
        )
    out: dict[str, Any] = {"accounts": accounts, "database": connection.vendor, "seed": seed}
    previous = list(TerritoryPlan.objects.filter(status=TerritoryPlan.Status.ACTIVE).values_list("pk", flat=True))
    TerritoryPlan.objects.filter(pk__in=previous).update(status=TerritoryPlan.Status.ARCHIVED)
    try:
        started = time.perf_counter()
        insert_accounts(accounts, seed)
        _analyze(vacuum=True)  # what autovacuum does after a bulk load, before the re-route reads it
        plan = build_plan()
        batch.plan_reroute(plan=plan)
        _analyze(vacuum=False)
        admin = User.objects.create(username=f"{BENCH_USER_PREFIX}map-admin")
        SalesProfile.objects.create(user=admin, role=SalesProfile.Role.ADMIN)
        out["territories"] = plan.territories.count()
        out["setup_s"] = round(time.perf_counter() - started, 2)
        say(f"setup: {out['setup_s']} s, {out['territories']} territories")

        plan.refresh_from_db()
        point_table_clear()
        started = time.perf_counter()
        table = point_table(plan)
        out["points_load_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        table.h3_cells(7)
        out["points_h3_s"] = round(time.perf_counter() - started, 3)
        say(f"point table: {out['points_load_s']} s")

        client = Client()
        client.force_login(admin)
        with override_settings(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"], SECURE_SSL_REDIRECT=False):
            # The layer is drawn by a task (analytics.map_layers): timed here by calling it.
            cache.delete(boundaries_cache_key(plan))
            layer = MapLayer.objects.create(plan=plan, key=boundaries_cache_key(plan))
            started = time.perf_counter()
            map_layer_build(layer_id=layer.pk)
            out["boundaries_build_s"] = round(time.perf_counter() - started, 3)
            started = time.perf_counter()
            response = client.get("/map/boundaries.json?level=all")
            out["boundaries_first_ms"] = round((time.perf_counter() - started) * 1000, 1)  # read from the database
            out["boundaries_kb"] = round(len(response.content) / 1024, 1)
            leaves = client.get("/map/boundaries.json")
            out["boundaries_leaves_kb"] = round(len(leaves.content) / 1024, 1)
            # The floor: an authenticated JSON request that reads one small table, timed between
            # the measured ones, so a busy machine shows in both and their ratio stays comparable.
            floor: list[float] = []

            def floor_sample() -> None:
                started = time.perf_counter()
                client.get("/map/reps.json")
                floor.append((time.perf_counter() - started) * 1000)

            cached = []
            for _ in range(20):
                started = time.perf_counter()
                client.get("/map/boundaries.json?level=all")
                cached.append((time.perf_counter() - started) * 1000)
                floor_sample()
            out["boundaries_cached_ms"] = round(_p95(cached), 1)
            # What a browser does: the compressed layer once, then a revalidation by its ETag.
            packed = client.get("/map/boundaries.json?level=all", headers={"Accept-Encoding": "gzip"})
            out["boundaries_gzip_kb"] = round(len(packed.content) / 1024, 1)
            revalidated = []
            for _ in range(20):
                started = time.perf_counter()
                client.get("/map/boundaries.json?level=all", headers={"If-None-Match": packed["ETag"]})
                revalidated.append((time.perf_counter() - started) * 1000)
            out["boundaries_304_ms"] = round(_p95(revalidated), 1)
            say(f"boundaries: {out['boundaries_kb']} KB, built in {out['boundaries_build_s']} s")

            rng = random.Random(seed)
            times, sizes, features = [], [], []
            zooms = [2 + (16 * i) // max(1, viewports - 1) for i in range(viewports)]  # world (2) to street (18)
            rng.shuffle(zooms)
            for zoom in zooms:
                bbox = ",".join(f"{v:.5f}" for v in _viewport(rng, table, zoom))
                started = time.perf_counter()
                response = client.get(f"/map/points.json?bbox={bbox}&zoom={zoom}")
                times.append((time.perf_counter() - started) * 1000)
                sizes.append(len(response.content) / 1024)
                body = json.loads(response.content)
                features.append(len(body["clusters"]) + len(body["pins"]))
                floor_sample()
            out["viewport_p95_ms"] = round(_p95(times), 1)
            out["viewport_median_ms"] = round(statistics.median(times), 1)
            out["payload_p95_kb"] = round(_p95(sizes), 1)
            out["features_max"] = max(features)
            out["floor_p95_ms"] = round(_p95(floor), 1)
            out["floor_median_ms"] = round(statistics.median(floor), 1)
            out["viewport_over_floor"] = round(_p95(times) / max(_p95(floor), 0.1), 2)
            out["boundaries_cached_over_floor"] = round(_p95(cached) / max(_p95(floor), 0.1), 2)
            heat = []
            for area in ("country", "state", "hex"):
                client.get(f"/map/heat.json?metric=potential&area={area}&bbox=-130,20,-60,50&zoom=4")  # warm
                started = time.perf_counter()
                response = client.get(f"/map/heat.json?metric=potential&area={area}&bbox=-130,20,-60,50&zoom=4")
                heat.append(((time.perf_counter() - started) * 1000, area, len(response.content) / 1024))
            out["heat_ms"] = {area: round(ms, 1) for ms, area, _ in heat}
            out["heat_kb"] = {area: round(kb, 1) for _, area, kb in heat}
        return out
    finally:
        point_table_clear()
        if not keep:
            MapLayer.objects.filter(plan__name=BENCH_PLAN).delete()  # the shared cleanup knows routing's tables
            cleanup()
            TerritoryPlan.objects.filter(pk__in=previous).update(status=TerritoryPlan.Status.ACTIVE)
