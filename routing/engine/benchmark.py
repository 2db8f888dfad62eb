"""A synthetic plan and a timing loop for the resolver. DESIGN wants benchmarks as commands that
print JSON, never timed tests: a management command (or ``python -c``) calls ``run()`` and
prints the dict; the test suite only checks that it runs and agrees with brute force.

The plan mirrors a large real one: 3 regions > countries > states > postal / industry-hybrid /
size children (4 levels), industry overlays per state, named-account territories, and a few
root-level size bands that every record is checked against.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from .evaluate import prepare
from .index import PlanIndex
from .plan import GEOGRAPHIC, HYBRID, NAMED_ACCOUNT, SIZE, PlanSpec, TerritorySpec
from .resolve import resolve, resolve_brute_force
from .validate import condition

REGIONS = ("AMER", "EMEA", "APAC")
INDUSTRIES = ("11", "21", "22", "23", "31", "42", "44", "48", "51", "52", "53", "54", "56", "61", "62", "71")


def build_plan(territories: int = 10_000, *, seed: int = 1) -> tuple[PlanSpec, list[str]]:
    """A plan of about ``territories`` territories; also the country codes it covers."""
    rng = random.Random(seed)
    specs: list[TerritorySpec] = []
    next_id = iter(range(1, 10**9))

    def add(**kw: Any) -> int:
        t_id = next(next_id)
        specs.append(TerritorySpec(id=t_id, code=kw.pop("code", f"T{t_id:06d}"), **kw))
        return t_id

    # Each state carries 8 territories (itself, 6 children, 1 overlay); countries 20 states.
    per_country = 1 + 20 * 8
    countries_needed = max(1, (territories - 3 - 500 - 20) // per_country)
    letters = [a + b for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    countries = letters[:countries_needed]
    region_ids = [add(code=r, type=GEOGRAPHIC, rule=condition("region", "eq", r)) for r in REGIONS]
    for i, country in enumerate(countries):
        country_id = add(parent_id=region_ids[i % 3], rule=condition("country", "eq", country), priority=1)
        for s in range(20):
            state = f"{country}-{s:02d}"
            state_id = add(parent_id=country_id, rule=condition("state", "eq", state), priority=1)
            for p in range(3):  # postal sectors, some with a size floor
                rule = condition("postal_code", "prefix", [f"{s:02d}{p}", f"{s:02d}{p + 5}"])
                if p == 2:
                    rule = {"all": [rule, condition("employees", "gte", 50)]}
                add(parent_id=state_id, rule=rule, priority=2)
            for _ in range(2):  # hybrid industry x size
                add(parent_id=state_id, type=HYBRID, priority=rng.randint(0, 3), rule={"all": [
                    condition("industry", "in", rng.sample(INDUSTRIES, 3)),
                    condition("employees", "between", [100, 100_000]),
                ]})
            add(parent_id=state_id, type=SIZE, rule={"any": [condition("employees", "gte", 5000),
                                                            condition("annual_revenue", "gt", 1_000_000_000)]})
            add(parent_id=state_id, rule=condition("industry", "in", [rng.choice(INDUSTRIES)]), is_overlay=True,
                credit_percent=rng.choice((10, 20, 50)))
    for _ in range(max(0, territories - len(specs) - 20)):  # named lists fill up to the size asked
        add(type=NAMED_ACCOUNT, named_account_ids=frozenset(rng.sample(range(1, 200_000), 20)))
    for band in range(20):
        add(type=SIZE, rule=condition("employees", "between", [band * 1000, band * 1000 + 999]), priority=-1)
    return PlanSpec(version=1, territories=tuple(specs)), countries


def make_records(countries: list[str], n: int, *, seed: int = 2) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        country = rng.choice(countries)
        s = rng.randrange(20)
        out.append({
            "id": rng.randrange(1, 200_000),
            "region": REGIONS[countries.index(country) % 3],
            "country": country,
            "state": f"{country}-{s:02d}",
            "postal_code": f"{s:02d}{rng.randrange(1000):03d}",
            "metro": "",
            "industry": rng.choice(INDUSTRIES) + str(rng.randrange(1000)),
            "employees": rng.choice([None, rng.randrange(20_000)]),
            "annual_revenue": None,
            "name": "Acme",
        })
    return out


def run(territories: int = 10_000, records: int = 20_000, *, check: int = 200, seed: int = 1) -> dict[str, Any]:
    """Build the plan, route ``records`` records one at a time, and report figures in µs."""
    spec, countries = build_plan(territories, seed=seed)
    started = time.perf_counter()
    plan = PlanIndex.build(spec)
    build_ms = (time.perf_counter() - started) * 1000
    sample = make_records(countries, records, seed=seed + 1)
    for record in sample[:1000]:  # warm up
        resolve(plan, record)
    timings = []
    clock = time.perf_counter_ns
    assigned = 0
    for record in sample:
        begin = clock()
        decision = resolve(plan, record)
        timings.append((clock() - begin) / 1000)
        assigned += decision.territory_id is not None
    timings.sort()
    candidates = [len(plan.candidate_ids(prepare(r), r["id"])) for r in sample[:2000]]
    mismatches = sum(resolve(plan, r) != resolve_brute_force(plan, r) for r in sample[:check])
    return {
        "territories": len(spec.territories),
        "routable": len(plan.routable_ids),
        "always_checked": len(plan.always_checked),
        "build_ms": round(build_ms, 1),
        "records": len(sample),
        "assigned": assigned,
        "p50_us": round(timings[len(timings) // 2], 1),
        "p99_us": round(timings[int(len(timings) * 0.99) - 1], 1),
        "mean_us": round(statistics.fmean(timings), 1),
        "max_us": round(timings[-1], 1),
        "mean_candidates_checked": round(statistics.fmean(candidates), 1),
        "brute_force_checked": min(check, len(sample)),
        "brute_force_mismatches": mismatches,
    }
