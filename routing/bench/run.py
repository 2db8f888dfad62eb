"""One benchmark run, in order: build the world, measure the floor, a full re-route, a second
one that finds nothing to change, the engine, the API, then a one-rule change and its re-route;
verify samples against routing one account at a time; clean up.
"""

from __future__ import annotations

import io
import json
import random
import time
from collections.abc import Callable
from typing import Any

from django.db import connection

from routing import batch
from salesos.models import Account
from territories.models import AccountLock, AccountTerritory, TerritoryPlan

from .cluster import reroute_through_workers, start_cluster, stop_cluster
from .extras import plan_measured
from .marks import BENCH_DOMAIN, BENCH_PLAN, BENCH_USER_PREFIX, BenchRefused, User, cleanup, foreign_accounts
from .measure import _analyze, measure_api, measure_engine, measure_floor, peak_rss_mb, verify_sample
from .synthetic import build_plan, change_one_rule, insert_accounts, shape_for


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
    workers: int = 0,
    shard_size: int = 50_000,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """``workers`` > 0: the full re-route runs as shards of ``shard_size`` accounts through a
    cluster of that many real worker processes on the Redis broker (``cluster``)."""
    say = log or (lambda _msg: None)
    cluster = start_cluster(workers) if workers else None
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
        shape = shape_for(territories)
        insert_accounts(accounts, shape, seed)
        account_ids = list(Account.objects.filter(domain__endswith=BENCH_DOMAIN).values_list("pk", flat=True))
        plan, shape = build_plan(territories=territories, seed=seed, account_ids=account_ids, users=user_ids)
        rng = random.Random(seed + 7)
        locked = rng.sample(account_ids, max(1, len(account_ids) // 1000))
        for i, account_id in enumerate(locked):  # a few manual overrides
            locked_to = shape.territory_ids[(i * 7919) % len(shape.territory_ids)]
            AccountLock.objects.create(account_id=account_id, territory_id=locked_to)
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
        if cluster is not None:
            out["workers"] = workers
            out.update(reroute_through_workers(plan=plan, shard_size=shard_size))
            say(f"full re-route on {workers} worker(s), {out['shards']} shards: {out['reroute_full_s']} s")
        else:
            started = time.perf_counter()
            full = batch.plan_reroute(plan=plan)
            out["reroute_full_s"] = round(time.perf_counter() - started, 3)
            out["reroute_full"] = full.counts()
            out["reroute_full_phases_s"] = full.seconds
            out["workers"], out["shards"] = 0, 1
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
        # The layers above measure what they do with the plan (planning: ``simulate_s``).
        for _receiver, figures in plan_measured.send(sender=None, plan=plan, leaf_ids=shape.leaf_ids, log=say):
            if isinstance(figures, dict):
                out.update(figures)
        plan.refresh_from_db()
        out["plan_version"] = plan.version
        out["peak_rss_mb"] = peak_rss_mb()
        if out["floor_s"]:
            out["full_over_floor"] = round(out["reroute_full_s"] / out["floor_s"], 2)
            out["changed_over_floor"] = round(out["reroute_changed_s"] / out["floor_s"], 3)
            out["full_over_floor_bare"] = round(out["reroute_full_s"] / out["floor_bare_s"], 2)
            if out.get("simulate_s") is not None:
                out["simulate_over_floor"] = round(out["simulate_s"] / out["floor_s"], 2)
    finally:
        if cluster is not None:
            stop_cluster(cluster)
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
