"""The dashboards benchmark behind ``manage.py bench_analytics``: N accounts and a synthetic plan
(``routing.bench``: the same accounts, plan and marks, so its ``cleanup`` removes them), routed by
the production re-route, with deals (one per two accounts, over the fiscal year), activities (one
per account), quotas on every leaf territory and a coverage snapshot; then each dashboard page is
requested through the full Django stack as an admin (the widest scope): once before any stored
figures exist (``page_first_view_ms``: computed live), then, after building the stored figures
those views asked for (``figures_build_s``: what the refresh task does), ``requests`` times each
(``page_p95_ms``, ``page_median_ms``).
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import override_settings
from django.utils import timezone

from analytics.figures import coverage_build, figures_build
from analytics.models import CoverageFigures, CoverageSnapshot, FiguresBuild, WhiteSpaceArea
from analytics.services import coverage_snapshot_take
from planning.models import FiscalPeriod, FiscalYear, Quota, covering
from routing import batch
from routing.bench import BENCH_DOMAIN, BENCH_PLAN, BENCH_USER_PREFIX, BenchRefused, cleanup, foreign_accounts
from routing.bench.synthetic import build_plan, insert_accounts, shape_for
from salesos.models import Account, Activity, Opportunity, SalesProfile
from territories.models import Territory, TerritoryPlan

User = get_user_model()
BENCH_YEAR = "FY-bench"
STAGES = [("prospecting", 10), ("qualification", 20), ("discovery", 30), ("proposal", 50), ("negotiation", 80)]


def _remove_own() -> None:
    """Deals, activities, snapshots and the fiscal year this benchmark added, then routing's rows."""
    bench_accounts = Account.objects.filter(domain__endswith=BENCH_DOMAIN).values("pk")
    Activity.objects.filter(account__in=bench_accounts).delete()
    Opportunity.objects.filter(account__in=bench_accounts)._raw_delete(Opportunity.objects.db)  # type: ignore[attr-defined]
    plans = TerritoryPlan.objects.filter(name=BENCH_PLAN)
    CoverageSnapshot.objects.filter(plan__in=plans).delete()
    FiguresBuild.objects.filter(plan__in=plans).delete()
    CoverageFigures.objects.filter(plan__in=plans).delete()
    Quota.objects.filter(period__fiscal_year__name=BENCH_YEAR).delete()
    if not CoverageSnapshot.objects.exists():
        WhiteSpaceArea.objects.all().delete()
    cleanup()
    FiscalYear.objects.filter(name=BENCH_YEAR).delete()


def _fiscal_year() -> list[FiscalPeriod]:
    today = timezone.localdate()
    start = dt.date(today.year, 1, 1)
    year = FiscalYear.objects.create(name=BENCH_YEAR, start_date=start, end_date=dt.date(today.year, 12, 31))
    return [
        FiscalPeriod.objects.create(fiscal_year=year, name=f"Q{q + 1}", start_date=dt.date(today.year, 3 * q + 1, 1),
                                    end_date=(dt.date(today.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
                                              - dt.timedelta(days=1)))
        for q in range(4)
    ]


def _deals_and_activities(plan: TerritoryPlan, periods: list[FiscalPeriod], seed: int) -> tuple[int, int]:
    rng = random.Random(seed)
    placed = list(
        Account.objects.filter(domain__endswith=BENCH_DOMAIN, territory_rows__plan=plan,
                               territory_rows__is_primary=True, territory_rows__valid_to__isnull=True)
        .values_list("pk", "territory_rows__territory_id")
    )
    start, end = periods[0].start_date, periods[-1].end_date
    span = (end - start).days
    deals, activities = [], []
    now = timezone.now()
    for i, (account_id, territory_id) in enumerate(placed):
        if i % 2 == 0:
            created = start + dt.timedelta(days=rng.randrange(span))
            close = created + dt.timedelta(days=rng.randrange(10, 120))
            roll = rng.random()
            if roll < 0.3:
                status, stage, probability = "won", "closed_won", 100
            elif roll < 0.55:
                status, stage, probability = "lost", "closed_lost", 0
            else:
                (stage, probability), status = rng.choice(STAGES), "open"
            deals.append(Opportunity(account_id=account_id, territory_id=territory_id, name=f"Bench deal {i}",
                                     amount=rng.randrange(5_000, 200_000), stage=stage, probability=probability,
                                     status=status, created_date=created, close_date=close, created_at=now))
        at = timezone.make_aware(dt.datetime.combine(start + dt.timedelta(days=rng.randrange(span)), dt.time(10)))
        activities.append(Activity(account_id=account_id, kind=rng.choice(("call", "email", "meeting")), at=at))
    Opportunity.objects.bulk_create(deals, batch_size=5000)
    Activity.objects.bulk_create(activities, batch_size=5000)
    return len(deals), len(activities)


def _quotas(plan: TerritoryPlan, periods: list[FiscalPeriod]) -> int:
    leaves = Territory.objects.filter(plan=plan, children__isnull=True).values_list("pk", flat=True)
    rows = [Quota(territory_id=pk, period=p, amount=500_000) for pk in leaves for p in periods]
    Quota.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))], 1)


def run(*, accounts: int, territories: int, seed: int = 1, requests: int = 20, keep: bool = False,
        force: bool = False, log: Callable[[str], None] | None = None) -> dict[str, Any]:
    say = log or (lambda _msg: None)
    _remove_own()
    others = foreign_accounts()
    if others and not force:
        raise BenchRefused(
            f"The database holds {others} accounts that are not the benchmark's. Run it in a scratch database, "
            "or pass --force to add benchmark rows next to them."
        )
    out: dict[str, Any] = {"accounts": accounts, "database": connection.vendor, "requests": requests}
    previous = list(TerritoryPlan.objects.filter(status=TerritoryPlan.Status.ACTIVE).values_list("pk", flat=True))
    TerritoryPlan.objects.filter(pk__in=previous).update(status=TerritoryPlan.Status.ARCHIVED)
    try:
        started = time.perf_counter()
        users = [User(username=f"{BENCH_USER_PREFIX}{i}", email=f"rep{i}{BENCH_DOMAIN}") for i in range(200)]
        User.objects.bulk_create(users)
        user_ids = list(User.objects.filter(username__startswith=BENCH_USER_PREFIX).values_list("pk", flat=True))
        admin = User.objects.create_user(username=f"{BENCH_USER_PREFIX}admin", email=f"admin{BENCH_DOMAIN}")
        SalesProfile.objects.create(user=admin, role=SalesProfile.Role.ADMIN)
        shape = shape_for(territories)
        insert_accounts(accounts, shape, seed)
        account_ids = list(Account.objects.filter(domain__endswith=BENCH_DOMAIN).values_list("pk", flat=True))
        plan, shape = build_plan(territories=territories, seed=seed, account_ids=account_ids, users=user_ids)
        batch.plan_reroute(plan=plan)
        periods = _fiscal_year()
        out["deals"], out["activities"] = _deals_and_activities(plan, periods, seed)
        out["quotas"] = _quotas(plan, periods)
        out["territories"] = Territory.objects.filter(plan=plan).count()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for model in (Account, Opportunity, Activity, Quota):
                    cursor.execute(f"ANALYZE {model._meta.db_table}")
        started_snapshot = time.perf_counter()
        coverage_snapshot_take()
        out["snapshot_s"] = round(time.perf_counter() - started_snapshot, 2)
        out["setup_s"] = round(time.perf_counter() - started, 2)
        say(f"setup: {out['setup_s']} s (snapshot {out['snapshot_s']} s)")
        top = Territory.objects.filter(plan=plan, parent__isnull=True).order_by("code").first()
        period = FiscalPeriod.objects.filter(covering(timezone.localdate()), fiscal_year__name=BENCH_YEAR).get()
        pages = {
            "coverage": "/analytics/",
            "performance": f"/analytics/performance/?period={period.pk}",
            "performance_drill": f"/analytics/performance/?period={period.pk}&territory={top.pk if top else ''}",
            "compare_level": f"/analytics/compare/?period={period.pk}&level=2",
            "forecast": f"/analytics/forecast/?period={period.pk}",
            "credit": f"/analytics/credit/?period={period.pk}",
        }
        client = Client()
        client.force_login(admin)
        p95, median, live = {}, {}, {}
        hosts = override_settings(ALLOWED_HOSTS=["testserver"], SECURE_SSL_REDIRECT=False)
        hosts.enable()
        for name, url in pages.items():
            # The first view of each page: no stored figures yet, so computed live (and a build asked for).
            t0 = time.perf_counter()
            client.get(url)
            live[name] = round((time.perf_counter() - t0) * 1000, 1)
        out["page_first_view_ms"] = live
        # What the queued tasks do (no worker runs here): build the figures the pages asked for.
        started_build = time.perf_counter()
        for plan_id, period_id in FiguresBuild.objects.values_list("plan_id", "period_id"):
            figures_build(plan_id=plan_id, period_id=period_id)
        for plan_id in CoverageFigures.objects.values_list("plan_id", flat=True):
            coverage_build(plan_id=plan_id)
        out["figures_build_s"] = round(time.perf_counter() - started_build, 2)
        say(f"figures built: {out['figures_build_s']} s")
        for name, url in pages.items():
            times = []
            for _ in range(requests):
                t0 = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{url} answered {response.status_code}")
            p95[name], median[name] = _p95(times), round(statistics.median(times), 1)
            say(f"{name}: p95 {p95[name]} ms")
        hosts.disable()
        out["page_p95_ms"], out["page_median_ms"] = p95, median
    finally:
        if not keep:
            _remove_own()
        TerritoryPlan.objects.filter(pk__in=previous).update(status=TerritoryPlan.Status.ACTIVE)
    return out
