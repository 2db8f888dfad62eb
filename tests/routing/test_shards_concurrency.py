"""Shards of one full re-route running at once on their own connections (as on several workers),
while an editor changes accounts: every shard finishes, the decisions are stored once between
them, and afterwards every account sits where routing it alone puts it. PostgreSQL only."""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import override_settings

from routing import batch, engine, services
from routing.batch import shards
from routing.models import RoutingJob
from salesos.models import Account
from territories.models import AccountTerritory, RoutingDecision
from tests.routing.test_batch import random_plan, state

pytestmark = pytest.mark.django_db(transaction=True)

STATES = ["US-CA", "US-NY", "US-TX", "US-WA", ""]


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    services._indexes.clear()
    yield
    services._indexes.clear()


def _run_in_thread(shard_id: int) -> str:
    try:
        done = shards.reroute_shard_run(shard_id=shard_id)
        return done.status if done else "missing"
    finally:
        connections.close_all()


def _sharded(plan, monkeypatch) -> RoutingJob:
    """Starts a sharded job whose shards all run at once, each on its own connection."""
    queued: list[int] = []
    monkeypatch.setattr(shards, "_enqueue", queued.append)
    job = RoutingJob.objects.create(plan=plan, scope=RoutingJob.Scope.FULL)
    batch.reroute_job_run(job_id=job.pk)
    assert len(queued) > 2
    with ThreadPoolExecutor(max_workers=len(queued)) as pool:
        statuses = list(pool.map(_run_in_thread, queued))
    # A shard that failed queued itself again: run those too, until none is left.
    while len(queued) > len(statuses):
        statuses.append(_run_in_thread(queued[len(statuses)]))
    job.refresh_from_db()
    return job


@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=40)
def test_shards_at_once_equal_a_single_process_run_and_share_decisions(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("shards on parallel connections: PostgreSQL")
    plan = random_plan(seed=31)
    batch.plan_reroute(plan=plan)
    single = state(plan)
    AccountTerritory.objects.filter(plan=plan).delete()
    RoutingDecision.objects.filter(plan=plan).delete()

    job = _sharded(plan, monkeypatch)
    assert job.status == RoutingJob.Status.DONE, job.error
    assert state(plan) == single
    stored = list(RoutingDecision.objects.filter(plan=plan).values_list("matched", "locked_territory_id"))
    assert len(stored) == len({(tuple(m), lock) for m, lock in stored}) == job.result["counts"]["decisions"]


@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=40)
def test_shards_at_once_with_an_editor_leave_every_account_routed(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("a second connection writing at the same time: PostgreSQL")
    plan = random_plan(seed=41)
    account_ids = list(Account.objects.values_list("pk", flat=True))
    stop, errors, edited = threading.Event(), [], []

    def editor() -> None:
        rng = random.Random(3)
        try:
            while not stop.is_set() and len(edited) < 200:
                account = Account.objects.get(pk=rng.choice(account_ids))
                account.state = rng.choice([s for s in STATES if s != account.state])
                services.account_save(account=account)
                edited.append(account.pk)
                time.sleep(0.01)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=editor)
    thread.start()
    try:
        # At least three runs, and as many more as it takes for the editor to be seen at work:
        # faster shards must not turn this into a test without a concurrent writer.
        jobs = [_sharded(plan, monkeypatch) for _ in range(3)]
        while len(edited) <= 10 and len(jobs) < 30 and not errors:
            jobs.append(_sharded(plan, monkeypatch))
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    assert len(edited) > 10
    assert [(j.status, j.error) for j in jobs] == [(RoutingJob.Status.DONE, "")] * len(jobs)

    compiled = services.plan_index(plan=plan)
    current = dict(AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True)
                   .values_list("account_id", "territory_id"))
    wrong = [
        account.pk for account in Account.objects.order_by("pk")
        if current.get(account.pk) != engine.resolve(compiled, services.record_of(account)).territory_id
    ]
    assert wrong == []
