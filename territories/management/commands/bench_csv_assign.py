"""``manage.py bench_csv_assign --rows 10000``: times a bulk CSV assignment and prints JSON.

Builds a throwaway draft plan (rows / 5 territories, 500 reps), writes a file giving every
territory a primary, two overlays and two backups, then times ``csv_check`` (the preview) and
``csv_apply`` (the apply, grants included). Everything runs in one transaction that is rolled
back at the end, so the database is left as it was.
"""

from __future__ import annotations

import json
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from salesos.models import SalesProfile
from territories import csv_assign
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
PLAN_NAME = "CSV assignment bench plan"
REPS = 500
PER_TERRITORY = 5  # primary, two overlays, two backups


class _Rollback(Exception):
    pass


class Command(BaseCommand):
    help = "Time a bulk CSV rep assignment of --rows lines (rolled back afterwards); prints JSON."

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=10_000)

    def handle(self, *args, rows: int, **options):
        if not 1 <= rows <= 50_000:
            raise CommandError("--rows must be between 1 and 50,000 (the 2 MB file limit).")
        if TerritoryPlan.objects.filter(name=PLAN_NAME).exists():
            raise CommandError(f"A plan named {PLAN_NAME!r} already exists; remove it first.")
        figures: dict = {}
        try:
            with transaction.atomic():
                admin, text = self._build(rows)
                plan = TerritoryPlan.objects.get(name=PLAN_NAME)
                started = time.perf_counter()
                checked = csv_assign.csv_check(data=text.encode(), plan=plan)
                figures["check_s"] = round(time.perf_counter() - started, 3)
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    checked = csv_assign.csv_apply(data=text, plan=plan, by=admin)
                    figures["apply_s"] = round(time.perf_counter() - started, 3)
                if not checked.ok:
                    raise CommandError(f"The bench file did not apply: {checked.errors[:3]}")
                figures["apply_queries"] = len(queries)
                figures["assignments"] = RepAssignment.objects.filter(territory__plan=plan).count()
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(json.dumps({"rows": rows, **figures, "vendor": connection.vendor}))

    def _build(self, rows: int):
        plan = TerritoryPlan.objects.create(name=PLAN_NAME, status=TerritoryPlan.Status.DRAFT)
        n_territories = -(-rows // PER_TERRITORY)
        Territory.objects.bulk_create(
            Territory(plan=plan, code=f"CSVB{i:05d}", name=f"Bench {i}") for i in range(n_territories)
        )
        password = make_password(None)
        users = User.objects.bulk_create(User(username=f"csvbench{i:04d}", password=password) for i in range(REPS))
        if users[0].pk is None:
            users = list(User.objects.filter(username__startswith="csvbench").order_by("username"))
        SalesProfile.objects.bulk_create(SalesProfile(user=u, role=SalesProfile.Role.REP) for u in users)
        admin = User.objects.create(username="csvbench-admin", password=password, is_superuser=True)
        lines = ["username,territory_code,slot,split_percent"]
        slots = [("primary", ""), ("overlay", "30"), ("overlay", "30"), ("backup", ""), ("backup", "")]
        for n in range(rows):
            i, k = divmod(n, PER_TERRITORY)
            slot, split = slots[k]
            lines.append(f"{users[(i + k) % REPS].username},CSVB{i:05d},{slot},{split}")
        return admin, "\n".join(lines) + "\n"
