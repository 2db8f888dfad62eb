"""What the routing benchmark marks as its own, and removing it: accounts with a
``.bench.example`` domain, the plan "Benchmark plan", users ``bench-rep-*`` and one API token.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection, transaction

from routing.models import IntegrationToken, RoutingJob
from salesos.models import Account
from territories.models import AccountLock, AccountTerritory, RepAssignment, RoutingDecision, Territory, TerritoryPlan

User = get_user_model()

BENCH_DOMAIN = ".bench.example"
BENCH_PLAN = "Benchmark plan"
BENCH_USER_PREFIX = "bench-rep-"
BENCH_TOKEN = "Routing benchmark"


class BenchRefused(Exception):
    """The database holds data that is not the benchmark's."""

def foreign_accounts() -> int:
    return Account.objects.exclude(domain__endswith=BENCH_DOMAIN).count()

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
            # Any account's lock on a benchmark territory goes (other accounts' too, after --force).
            AccountLock.objects.filter(territory__plan_id__in=plans).delete()
            cursor.execute(f"DELETE FROM {RoutingDecision._meta.db_table} WHERE plan_id IN ({marks})", plans)
            RoutingJob.objects.filter(plan_id__in=plans).delete()  # with --workers: the sharded job
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
        cursor.execute(f"DELETE FROM {AccountLock._meta.db_table} WHERE account_id IN ({bench_accounts})",
                       [f"%{BENCH_DOMAIN}"])
        cursor.execute(f"DELETE FROM {acc} WHERE domain LIKE %s", [f"%{BENCH_DOMAIN}"])
    IntegrationToken.objects.filter(name=BENCH_TOKEN).delete()
    User.objects.filter(username__startswith=BENCH_USER_PREFIX).delete()
