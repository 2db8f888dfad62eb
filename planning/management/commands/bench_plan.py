"""``manage.py bench_plan --territories 10000 --json``: times "Copy into a new draft" and prints
one JSON line (``clone_s``, the copy's counts and query count).

Builds a source plan of the given size in one transaction (a three-level tree, a rule on every
territory, a primary on every leaf and an overlay on one in five, named lists on one territory in
fifty), copies it through ``planning.plans.clone.plan_copy`` (grants included), checks that the
copy has as many territories, slots and named-list entries as the source, and rolls everything
back, so the database is left as it was. Meant for a scratch database.
"""

from __future__ import annotations

import json
import time

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from planning.plans.clone import plan_copy
from salesos.models import Account, SalesProfile
from territories.models import RepAssignment, Territory, TerritoryPlan

User = get_user_model()
PLAN_NAME = "Plan copy bench source"
COPY_NAME = "Plan copy bench copy"
REPS = 500
ROOTS = 10
NAMED_EVERY = 50
NAMED_PER_LIST = 10


class _Rollback(Exception):
    pass


def _rule(field: str, op: str, value) -> dict:
    return {"all": [{"field": field, "op": op, "value": value}]}


class Command(BaseCommand):
    help = "Time copying a plan of --territories territories into a new draft (rolled back); prints JSON."

    def add_arguments(self, parser):
        parser.add_argument("--territories", type=int, default=10_000)
        parser.add_argument("--json", action="store_true", help="Print one JSON line (the default output too).")

    def handle(self, *args, territories: int, **options):
        if not 20 <= territories <= 100_000:
            raise CommandError("--territories must be between 20 and 100,000.")
        if TerritoryPlan.objects.filter(name__in=[PLAN_NAME, COPY_NAME]).exists():
            raise CommandError(f"A plan named {PLAN_NAME!r} or {COPY_NAME!r} already exists; remove it first.")
        figures: dict = {"territories": territories}
        try:
            with transaction.atomic():
                admin, source = self._build(territories)
                figures["build_s"] = round(time.perf_counter() - self._started, 3)
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    copy = plan_copy(source=source, name=COPY_NAME, by=admin)
                    figures["clone_s"] = round(time.perf_counter() - started, 3)
                figures["clone_queries"] = len(queries)
                figures.update(self._compare(source, copy))
                raise _Rollback
        except _Rollback:
            pass
        self.stdout.write(json.dumps({**figures, "vendor": connection.vendor}))

    def _compare(self, source: TerritoryPlan, copy: TerritoryPlan) -> dict:
        through = Territory.named_accounts.through
        counts = {}
        for label, plan in (("source", source), ("copy", copy)):
            counts[label] = (
                Territory.objects.filter(plan=plan).count(),
                Territory.objects.filter(plan=plan, parent__isnull=False).count(),
                RepAssignment.objects.filter(territory__plan=plan).count(),
                through.objects.filter(territory__plan=plan).count(),
            )
        if counts["source"] != counts["copy"]:
            raise CommandError(f"The copy differs from its source: {counts}")
        territories, with_parent, slots, named = counts["copy"]
        return {"copied_territories": territories, "copied_parents": with_parent, "copied_slots": slots,
                "copied_named": named}

    def _build(self, n: int):
        self._started = time.perf_counter()
        password = make_password(None)
        users = User.objects.bulk_create(User(username=f"planbench{i:04d}", password=password) for i in range(REPS))
        if users[0].pk is None:
            users = list(User.objects.filter(username__startswith="planbench").order_by("username"))
        SalesProfile.objects.bulk_create(SalesProfile(user=u, role=SalesProfile.Role.REP) for u in users)
        admin = User.objects.create(username="planbench-admin", password=password, is_superuser=True)
        accounts = Account.objects.bulk_create(
            Account(name=f"Plan bench {i}", country="US") for i in range(n // NAMED_EVERY * NAMED_PER_LIST or 1))
        plan = TerritoryPlan.objects.create(name=PLAN_NAME, status=TerritoryPlan.Status.DRAFT)
        mids_per_root = max(1, n // 300)
        roots = Territory.objects.bulk_create(
            Territory(plan=plan, code=f"R{i:02d}", name=f"Region {i}", rule=_rule("region", "eq", f"R{i}"))
            for i in range(ROOTS))
        mids = Territory.objects.bulk_create(
            Territory(plan=plan, code=f"{r.code}-{j:03d}", name=f"Area {r.code}-{j}", parent=r, priority=1,
                      rule=_rule("state", "eq", f"US-{r.code}{j}"))
            for r in roots for j in range(mids_per_root))
        left = n - len(roots) - len(mids)
        leaves = Territory.objects.bulk_create(
            Territory(plan=plan, code=f"L{k:06d}", name=f"Leaf {k}", parent=mids[k % len(mids)], priority=k % 4,
                      type=Territory.Type.HYBRID if k % 3 else Territory.Type.GEOGRAPHIC,
                      rule={"all": [{"field": "postal_code", "op": "prefix", "value": [f"{k % 100000:05d}"]},
                                    {"field": "employees", "op": "gte", "value": k % 500}]})
            for k in range(left))
        RepAssignment.objects.bulk_create(
            [RepAssignment(territory=t, user=users[k % REPS], slot=RepAssignment.Slot.PRIMARY)
             for k, t in enumerate(leaves)]
            + [RepAssignment(territory=t, user=users[(k + 7) % REPS], slot=RepAssignment.Slot.OVERLAY,
                             split_percent=20) for k, t in enumerate(leaves) if k % 5 == 0],
            batch_size=2000)
        through = Territory.named_accounts.through
        everything = [*roots, *mids, *leaves]
        through.objects.bulk_create(
            (through(territory_id=t.pk, account_id=accounts[(k * NAMED_PER_LIST + a) % len(accounts)].pk)
             for k, t in enumerate(everything[::NAMED_EVERY]) for a in range(NAMED_PER_LIST)),
            batch_size=2000)
        return admin, plan
