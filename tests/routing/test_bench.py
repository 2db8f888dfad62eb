"""``manage.py bench_routing`` runs at a tiny size and its batch re-route agrees with routing
each account alone (no timing is asserted: the figures are for people to read)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from routing import bench, services
from salesos.models import Account
from territories.models import AccountTerritory, TerritoryPlan
from tests.factories import make_account, make_plan

pytestmark = pytest.mark.django_db(transaction=False)

KEYS = {
    "accounts", "territories", "engine_single_p50_us", "engine_single_p99_us", "api_route_p99_ms", "reroute_full_s",
    "reroute_changed_s", "floor_s", "floor_bare_s", "peak_rss_mb",
}


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    services._indexes.clear()
    yield
    services._indexes.clear()


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("bench_routing", "--json", "--accounts", "2000", "--territories", "50", "--engine-sample", "300",
                 "--api-requests", "30", *args, stdout=out, stderr=io.StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_tiny_benchmark_prints_the_figures_and_agrees_with_single_routing():
    figures = run("--keep", "--verify", "150")
    assert set(figures) >= KEYS
    assert figures["accounts"] == 2000 and figures["territories"] >= 50
    assert figures["verify_checked"] == 300 and figures["verify_mismatches"] == 0
    assert figures["reroute_full"]["rows_inserted"] >= figures["reroute_full"]["changed"] > 1500
    assert figures["reroute_again_changed"] == 0 and figures["reroute_changed"]["total"] > 0
    assert figures["api_route_p99_ms"] is not None or figures["api_note"]

    # What the batch left must be exactly what routing each account alone keeps: nothing to write.
    plan = TerritoryPlan.objects.get(name=bench.BENCH_PLAN)
    rows = AccountTerritory.objects.count()
    closed = AccountTerritory.objects.filter(valid_to__isnull=False).count()
    for account in Account.objects.all():
        services.account_route(account=account, plan=plan)
    assert AccountTerritory.objects.count() == rows
    assert AccountTerritory.objects.filter(valid_to__isnull=False).count() == closed


def test_without_keep_it_cleans_up_and_restores_the_active_plan():
    real = make_plan(name="FY plan")
    run("--verify", "0")
    assert not TerritoryPlan.objects.filter(name=bench.BENCH_PLAN).exists()
    assert not Account.objects.exists() and not AccountTerritory.objects.exists()
    real.refresh_from_db()
    assert real.status == TerritoryPlan.Status.ACTIVE


def test_refuses_a_database_with_real_accounts():
    make_account(name="A real customer")
    with pytest.raises(CommandError, match="scratch database"):
        run()
    assert Account.objects.count() == 1


def test_workers_need_the_redis_broker(settings):
    settings.REDIS_URL = ""
    with pytest.raises(CommandError, match="REDIS_URL"):
        run("--workers", "2")
    assert not TerritoryPlan.objects.filter(name=bench.BENCH_PLAN).exists()
