"""Times the territory tree and list pages server-side on a large plan and prints JSON.

    manage.py bench_territory_pages --territories 5000 --accounts 100000

Builds the data (bulk inserts) the first time, in a plan named "Bench plan", then requests each
page through Django's test client (warm: a few untimed requests first) and reports the median
and 95th percentile time and the number of queries. Run it against a scratch database: it
refuses to build when another plan is already active.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import time
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from planning.models import FiscalPeriod, FiscalYear, Quota
from salesos.models import Account, Opportunity, SalesProfile
from territories.grants import grants_rebuild
from territories.models import AccountTerritory, RepAssignment, Territory, TerritoryPlan

User = get_user_model()
Role = SalesProfile.Role
PLAN_NAME = "Bench plan"
BATCH = 5000
STATES = ["US-CA", "US-OR", "US-WA", "US-NY", "US-TX", "US-CO", "US-MA", "US-IL", "US-FL", "US-GA"]


class Command(BaseCommand):
    help = "Benchmark the territory tree and list pages (server time, queries) on a large plan."

    def add_arguments(self, parser):
        parser.add_argument("--territories", type=int, default=5000)
        parser.add_argument("--accounts", type=int, default=100_000)
        parser.add_argument("--requests", type=int, default=20)
        parser.add_argument("--seed", type=int, default=7)

    def handle(self, *args, **opts):
        built = None
        plan = TerritoryPlan.objects.filter(name=PLAN_NAME).first()
        if plan is None or plan.territories.count() < opts["territories"]:
            if plan is not None:
                raise CommandError(f"{PLAN_NAME} exists with fewer territories; use a fresh scratch database.")
            if TerritoryPlan.objects.filter(status=TerritoryPlan.Status.ACTIVE).exists():
                raise CommandError("Another plan is active here: run the benchmark in a scratch database.")
            started = time.perf_counter()
            plan = self.build(opts["territories"], opts["accounts"], random.Random(opts["seed"]))
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:  # what autovacuum would soon do after a bulk load
                    cursor.execute("VACUUM ANALYZE")
            built = round(time.perf_counter() - started, 1)
        started = time.perf_counter()
        grant_rows = grants_rebuild()
        rebuild_s = time.perf_counter() - started

        if "testserver" not in settings.ALLOWED_HOSTS and "*" not in settings.ALLOWED_HOSTS:
            settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        index = reverse("territories:index")
        director = User.objects.get(username="bench-director-0")
        pages = {
            "tree (admin)": ("bench-admin", index, {}),
            "list search (admin)": ("bench-admin", index, {"q": "-L0"}),
            "list filters (admin)": ("bench-admin", index, {"level": "4", "vacant": "1"}),
            "tree (director)": ("bench-director-0", index, {}),
            "list search (director)": ("bench-director-0", index, {"q": "-L0"}),
            "children (admin, region)": (
                "bench-admin",
                reverse("territories:children", args=[Territory.objects.get(plan=plan, code="R0").pk]),
                {"indent": "2", "_htmx": True},
            ),
        }
        results = {}
        for name, (username, url, params) in pages.items():
            results[name] = self.time_page(username, url, dict(params), opts["requests"])
        load = None
        try:
            import os

            load = round(os.getloadavg()[0], 2)
        except OSError:
            pass
        print(
            json.dumps(
                {
                    "database": connection.vendor,
                    "load_average_1m": load,
                    "cpus": __import__("os").cpu_count(),
                    "territories": plan.territories.count(),
                    "accounts": Account.objects.count(),
                    "open_deals": Opportunity.objects.filter(status="open").count(),
                    "built_in_s": built,
                    "grants_rebuild": {"rows": grant_rows, "seconds": round(rebuild_s, 3)},
                    "director_sees": Territory.objects.filter(
                        plan=plan, territoryuserobjectpermission__user=director,
                        territoryuserobjectpermission__permission__codename="view_territory",
                    ).count(),
                    "pages": results,
                },
                indent=2,
            )
        )

    def time_page(self, username: str, url: str, params: dict, n: int) -> dict:
        client = Client()
        client.force_login(User.objects.get(username=username))
        headers = {"HX-Request": "true"} if params.pop("_htmx", False) else {}
        for _ in range(3):  # warm: templates compiled, caches filled
            response = client.get(url, params, headers=headers, secure=True)
            assert response.status_code == 200, (url, response.status_code)
        times, sql_times = [], []
        for _ in range(n):
            queries: list[float] = []

            def timed(execute, sql, params_, many, context, queries=queries):
                started = time.perf_counter()
                try:
                    return execute(sql, params_, many, context)
                finally:
                    queries.append(time.perf_counter() - started)

            with connection.execute_wrapper(timed):
                started = time.perf_counter()
                client.get(url, params, headers=headers, secure=True)
                times.append((time.perf_counter() - started) * 1000)
            sql_times.append(sum(queries) * 1000)
        times.sort()
        return {
            "url": url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else ""),
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)], 1),
            "median_sql_ms": round(statistics.median(sql_times), 1),
            "queries": len(queries),
            "bytes": len(response.content),
        }

    @transaction.atomic
    def build(self, n_territories: int, n_accounts: int, rng: random.Random) -> TerritoryPlan:
        today = dt.date.today()
        fy = FiscalYear.objects.create(
            name=f"BENCH{today.year}", start_date=dt.date(today.year, 1, 1), end_date=dt.date(today.year, 12, 31)
        )
        periods = FiscalPeriod.objects.bulk_create(
            FiscalPeriod(fiscal_year=fy, name=f"Q{q + 1}", start_date=dt.date(today.year, 3 * q + 1, 1),
                         end_date=(dt.date(today.year + (q == 3), (3 * q + 4) % 12 or 12, 1) - dt.timedelta(days=1)))
            for q in range(4)
        )
        plan = TerritoryPlan.objects.create(
            name=PLAN_NAME, status=TerritoryPlan.Status.ACTIVE, fiscal_year=fy, effective_date=fy.start_date
        )

        # People: an admin, three directors, ten managers each, ten reps per manager.
        password = make_password("bench-Secret-1")
        specs: list[tuple[str, Role, str | None]] = [("bench-admin", Role.ADMIN, None)]
        specs += [(f"bench-director-{d}", Role.DIRECTOR, None) for d in range(3)]
        specs += [(f"bench-manager-{d}-{m}", Role.MANAGER, f"bench-director-{d}") for d in range(3) for m in range(10)]
        specs += [
            (f"bench-rep-{d}-{m}-{r}", Role.REP, f"bench-manager-{d}-{m}")
            for d in range(3) for m in range(10) for r in range(10)
        ]
        users = User.objects.bulk_create(
            [User(username=u, password=password, first_name=u.split("-")[1].title(), last_name=u) for u, _, _ in specs]
        )
        by_name = {u.username: u for u in users}
        SalesProfile.objects.bulk_create(
            [SalesProfile(user=by_name[u], role=role, manager=by_name.get(m) if m else None) for u, role, m in specs]
        )

        # Tree: GLOBAL > 3 regions > 30 areas > leaves (the rest).
        root = Territory.objects.create(plan=plan, code="GLOBAL", name="Global")
        regions = Territory.objects.bulk_create(
            [Territory(plan=plan, code=f"R{d}", name=f"Region {d}", parent=root) for d in range(3)]
        )
        areas = Territory.objects.bulk_create(
            [Territory(plan=plan, code=f"R{d}-A{m}", name=f"Area {d}.{m}", parent=regions[d])
             for d in range(3) for m in range(10)]
        )
        n_leaves = max(0, n_territories - 1 - len(regions) - len(areas))
        kinds = [Territory.Type.GEOGRAPHIC] * 6 + [Territory.Type.HYBRID, Territory.Type.INDUSTRY, Territory.Type.SIZE]
        leaves = Territory.objects.bulk_create(
            [
                Territory(plan=plan, code=f"{areas[i % len(areas)].code}-L{i:05d}", name=f"Leaf {i}",
                          parent=areas[i % len(areas)], type=rng.choice(kinds))
                for i in range(n_leaves)
            ],
            batch_size=BATCH,
        )

        assignments = [RepAssignment(territory=regions[d], user=by_name[f"bench-director-{d}"], slot="primary")
                       for d in range(3)]
        assignments += [RepAssignment(territory=areas[d * 10 + m], user=by_name[f"bench-manager-{d}-{m}"],
                                      slot="primary") for d in range(3) for m in range(10)]
        for i, leaf in enumerate(leaves):
            area = i % len(areas)
            d, m = divmod(area, 10)
            if rng.random() < 0.9:  # one leaf in ten is vacant
                rep = by_name[f"bench-rep-{d}-{m}-{rng.randrange(10)}"]
                assignments.append(RepAssignment(territory=leaf, user=rep, slot="primary"))
        RepAssignment.objects.bulk_create(assignments, batch_size=BATCH)

        quotas = [Quota(territory=leaf, period=p, amount=Decimal(rng.randrange(50, 500) * 1000))
                  for leaf in leaves for p in periods]
        Quota.objects.bulk_create(quotas, batch_size=BATCH)

        # Each account sits in a random leaf: its current primary routing row, placed by hand (the
        # bench times the pages, not the rules).
        targets = leaves or areas
        for start in range(0, n_accounts, BATCH):
            batch = [
                Account(name=f"Bench account {i:06d}", country="US", region="AMER", state=rng.choice(STATES),
                        city="Springfield", postal_code=f"{rng.randrange(10000, 99999)}",
                        employees=rng.randrange(5, 20000), industry_code=rng.choice(["51", "62", "311", "5415"]))
                for i in range(start, min(n_accounts, start + BATCH))
            ]
            created = Account.objects.bulk_create(batch, batch_size=BATCH)
            where = {a.pk: targets[rng.randrange(len(targets))] for a in created}
            AccountTerritory.objects.bulk_create(
                [AccountTerritory(account=a, territory=where[a.pk], plan=plan, is_primary=True,
                                  source=AccountTerritory.Source.MANUAL) for a in created],
                batch_size=BATCH,
            )
            deals = [
                Opportunity(account=a, name=f"Deal {a.name}", amount=Decimal(rng.randrange(5, 500) * 1000),
                            territory=where[a.pk], status="open", stage="discovery",
                            created_date=today, close_date=today + dt.timedelta(days=90))
                for a in created
                if rng.random() < 0.3
            ]
            Opportunity.objects.bulk_create(deals, batch_size=BATCH)
        return plan
