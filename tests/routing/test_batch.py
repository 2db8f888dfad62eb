"""Batch re-routing agrees with routing accounts one by one, writes only what changes, and its
dry run predicts exactly what the real run then does."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import transaction
from django.utils import timezone

from routing import batch, engine, services
from routing.models import RoutingJob
from salesos.models import Account
from territories import placement
from territories.models import AccountTerritory, RoutingDecision, Territory
from tests import factories
from tests.factories import assign, make_plan, make_territory, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    # The per-process cache is keyed by plan id and version; test databases reuse both.
    services._indexes.clear()
    yield
    services._indexes.clear()

STATES = ["US-CA", "US-NY", "US-TX", "US-WA"]
SECTORS = ["62", "51", "52", "31"]


def cond(field, op, value):
    return {"field": field, "op": op, "value": value}


def random_plan(seed: int = 7):
    """Three levels of geography, hybrid and size children, overlays, a named list, owners."""
    rng = random.Random(seed)
    plan = make_plan()
    reps = [make_user() for _ in range(4)]
    us = make_territory(plan, code="US", rule=cond("country", "eq", "US"))
    made = [us]
    for state in STATES:
        st = make_territory(plan, code=state, parent=us, rule=cond("state", "eq", state), priority=1)
        made.append(st)
        made.append(make_territory(plan, code=f"{state}-HC", parent=st, type=Territory.Type.HYBRID,
                                   priority=rng.randint(0, 2),
                                   rule={"all": [cond("industry", "in", [rng.choice(SECTORS)]),
                                                 cond("employees", "gte", rng.choice([50, 100, 500]))]}))
        made.append(make_territory(plan, code=f"{state}-94", parent=st, priority=rng.randint(0, 2),
                                   rule=cond("postal_code", "prefix", [rng.choice(["9", "94", "1"])])))
    made.append(make_territory(plan, code="BIG", type=Territory.Type.SIZE, rule=cond("employees", "gte", 5000)))
    made.append(make_territory(plan, code="TIE-A", type=Territory.Type.SIZE, rule=cond("employees", "between", [0, 9])))
    made.append(make_territory(plan, code="TIE-B", type=Territory.Type.SIZE, rule=cond("employees", "between", [0, 9])))
    made.append(make_territory(plan, code="OV-HC", rule=cond("industry", "in", ["62"]), is_overlay=True,
                               credit_percent=30))
    made.append(make_territory(plan, code="OV-CA", parent=us, rule=cond("state", "eq", "US-CA"), is_overlay=True,
                               credit_percent=10))
    for i, territory in enumerate(made):
        if not territory.is_overlay and i % 3 != 2:  # some territories have no owner
            assign(territory, reps[i % len(reps)])
    accounts = Account.objects.bulk_create(
        Account(
            name=f"Account {i}",
            country=rng.choice(["US", "US", "US", "DE", ""]),
            state=rng.choice([*STATES, ""]),
            postal_code=rng.choice(["94105", "10001", "98101", "1", ""]),
            industry_code=rng.choice([*SECTORS, "6211", "999", ""]),
            employees=rng.choice([None, 5, 80, 300, 1000, 8000]),
        )
        for i in range(240)
    )
    named = make_territory(plan, code="NAMED", type=Territory.Type.NAMED_ACCOUNT, priority=9)
    named.named_accounts.set(accounts[:6])
    assign(named, reps[0])
    factories.lock(accounts[10], made[3])
    plan.territories_made = made
    return plan


def state(plan) -> dict:
    """Everything a re-route writes, comparable between two runs (no pks, no timestamps): the rows
    and, on primary rows, what their decision stores (the matched territories, the lock)."""
    rows = sorted(
        (r[0], r[1], r[2], r[3], r[4], r[5], r[6] is None, repr(r[7]), r[8], r[9])
        for r in AccountTerritory.objects.filter(plan=plan).values_list(
            "account_id", "territory_id", "is_primary", "credit_percent", "source", "conflict", "valid_to",
            "decision__matched", "decision__locked_territory_id", "decision__plan_version",
        )
    )
    where = sorted(placement.with_territory(Account.objects.all(), plan=plan).values_list("pk", "current_territory_id"))
    return {"rows": rows, "where": where}


def route_one_by_one(plan, now):
    for account in Account.objects.order_by("pk"):
        services.account_route(account=account, plan=plan, now=now)


def both_ways(plan, run_batch, now):
    """The state after ``run_batch`` and after account_route on every account, from the same start."""
    with transaction.atomic():
        run_batch()
        batched = state(plan)
        transaction.set_rollback(True)
    route_one_by_one(plan, now)
    return batched, state(plan)


def test_full_batch_equals_routing_each_account():
    plan = random_plan()
    now = timezone.now()
    batched, single = both_ways(plan, lambda: batch.plan_reroute(plan=plan, now=now, chunk_size=37), now)
    assert batched == single
    assert any(r[4] == "named" for r in batched["rows"]) and any(not r[2] for r in batched["rows"])
    assert any(r[4] == "lock" for r in batched["rows"]) and any(r[5] for r in batched["rows"])  # a tie
    assert any(t is None for _, t in batched["where"]) and any(t for _, t in batched["where"])
    assert all(r[7] != "None" for r in batched["rows"] if r[2] and r[6])  # every current primary explained


def test_batch_after_rule_changes_equals_routing_each_account():
    plan = random_plan(seed=11)
    batch.plan_reroute(plan=plan)
    ca = Territory.objects.get(plan=plan, code="US-CA")
    Territory.objects.filter(pk=ca.pk).update(rule=cond("state", "in", ["US-CA", "US-NY"]), priority=3)
    Territory.objects.filter(plan=plan, code="OV-HC").update(credit_percent=50)
    services.plan_touch(plan=plan)
    now = timezone.now() + dt.timedelta(minutes=1)
    batched, single = both_ways(plan, lambda: batch.plan_reroute(plan=plan, now=now, chunk_size=50), now)
    assert batched == single
    assert any(not r[6] for r in batched["rows"])  # some rows were closed


def test_a_second_full_run_writes_nothing():
    plan = random_plan()
    first = batch.plan_reroute(plan=plan)
    assert first.rows_inserted > 0 and first.changed > 0
    rows = AccountTerritory.objects.count()
    second = batch.plan_reroute(plan=plan)
    assert AccountTerritory.objects.count() == rows
    assert not AccountTerritory.objects.filter(valid_to__isnull=False).exists()
    assert (second.changed, second.rows_closed, second.rows_inserted, second.decisions, second.moved) == (
        0, 0, 0, 0, 0)


def test_changed_territory_scope_moves_exactly_what_a_full_run_moves():
    plan = random_plan(seed=3)
    batch.plan_reroute(plan=plan)
    tx = Territory.objects.get(plan=plan, code="US-TX")
    Territory.objects.filter(pk=tx.pk).update(rule=cond("state", "in", ["US-TX", "US-WA"]), priority=2)
    services.plan_touch(plan=plan)
    now = timezone.now() + dt.timedelta(minutes=1)
    with transaction.atomic():
        full = batch.plan_reroute(plan=plan, now=now)
        expected = state(plan)
        transaction.set_rollback(True)
    scoped = batch.plan_reroute(plan=plan, territory_ids=[tx.pk], now=now)
    got = state(plan)
    assert set(got["rows"]) ^ set(expected["rows"]) == set()
    assert got == expected
    assert scoped.moved == full.moved > 0 and scoped.total < Account.objects.count()


def test_narrowed_rule_scope_includes_the_accounts_leaving():
    plan = random_plan(seed=5)
    batch.plan_reroute(plan=plan)
    ca = Territory.objects.get(plan=plan, code="US-CA")
    Territory.objects.filter(pk=ca.pk).update(rule=cond("state", "eq", "US-XX"))
    services.plan_touch(plan=plan)
    now = timezone.now() + dt.timedelta(minutes=1)
    with transaction.atomic():
        batch.plan_reroute(plan=plan, now=now)
        expected = state(plan)
        transaction.set_rollback(True)
    result = batch.plan_reroute(plan=plan, territory_ids=[ca.pk], now=now)
    assert state(plan) == expected and result.moved > 0


def test_dry_run_writes_nothing_and_predicts_the_real_run():
    plan = random_plan(seed=9)
    batch.plan_reroute(plan=plan)
    Territory.objects.filter(plan=plan, code="US-NY").update(priority=5, rule=cond("state", "in", ["US-NY", "US-CA"]))
    services.plan_touch(plan=plan)
    before = state(plan)
    dry = batch.plan_reroute(plan=plan, dry_run=True)
    assert state(plan) == before
    real = batch.plan_reroute(plan=plan)
    assert dry.counts() == real.counts()
    assert dry.to_dict()["territories"] == real.to_dict()["territories"]
    assert dry.to_dict()["sample"] == real.to_dict()["sample"]
    assert dry.moved > 0 and {m["to_code"] for m in dry.to_dict()["sample"]} >= {"US-NY"}
    closed = AccountTerritory.objects.filter(plan=plan, valid_to__isnull=False).count()
    assert closed == real.rows_closed


def test_manual_rows_are_kept_while_the_rules_leave_the_account_unassigned():
    plan = random_plan()
    batch.plan_reroute(plan=plan)
    stray = Account.objects.create(name="Stray", country="FR")
    target = Territory.objects.get(plan=plan, code="US-NY")
    services.accounts_route_manually(account_ids=[stray.pk], territory=target, by=None, reason="Partner deal")
    owner = placement.placement(stray).owner
    result = batch.plan_reroute(plan=plan)
    row = AccountTerritory.objects.get(account=stray, valid_to__isnull=True)
    where = placement.placement(stray)
    assert (row.territory_id, row.source, where.territory, where.owner) == (target.pk, "manual", target, owner)
    assert result.changed == 0
    # Once a rule claims the account, the manual row gives way.
    Account.objects.filter(pk=stray.pk).update(country="US", state="US-NY")
    result = batch.plan_reroute(plan=plan, account_ids=[stray.pk])
    row = AccountTerritory.objects.get(account=stray, valid_to__isnull=True, is_primary=True)
    assert row.source == "rule" and result.rows_closed == 1


def test_a_draft_plan_gets_its_own_rows_and_moves_no_one_in_the_active_plan():
    plan = random_plan()
    plan.status = "draft"
    plan.save()
    result = batch.plan_reroute(plan=plan)
    assert result.rows_inserted > 0 and AccountTerritory.objects.filter(plan=plan).count() == result.rows_inserted
    assert not placement.accounts_assigned().exists()  # no active plan: nobody sits anywhere


def test_rows_share_decisions_that_give_the_engine_decision_back():
    plan = random_plan(seed=13)
    result = batch.plan_reroute(plan=plan)
    assert 0 < result.decisions == RoutingDecision.objects.filter(plan=plan).count()
    primary = AccountTerritory.objects.filter(plan=plan, is_primary=True).select_related("decision", "account")
    assert result.decisions < primary.count()  # shared, not one per account
    compiled = services.plan_index(plan=plan)
    for row in primary:
        stored = engine.decide_matched(compiled, row.decision.matched, row.decision.locked_territory_id)
        assert stored.to_dict() == engine.resolve(compiled, services.record_of(row.account)).to_dict()
        assert stored.territory_id == row.territory_id and stored.conflict == row.conflict


def test_job_runs_through_the_task_and_its_progress_ends_at_total(django_capture_on_commit_callbacks):
    plan = random_plan()
    admin = make_user("admin")
    with django_capture_on_commit_callbacks(execute=True):
        job = batch.reroute_job_start(plan=plan, scope="full", by=admin)
    job.refresh_from_db()
    assert job.status == RoutingJob.Status.DONE, job.error
    assert job.total == job.processed == Account.objects.count() and job.percent == 100
    assert job.changed == job.result["counts"]["changed"] > 0
    assert job.started_at and job.finished_at and job.created_by == admin
    territory = Territory.objects.get(plan=plan, code="US-CA")
    with django_capture_on_commit_callbacks(execute=True):
        scoped = batch.reroute_job_start(plan=plan, scope="territories", territory_ids=[territory.pk], by=admin)
    scoped.refresh_from_db()
    assert scoped.status == "done" and scoped.params == {"territory_ids": [territory.pk]}
    assert scoped.changed == 0 and scoped.processed == scoped.total > 0


def test_a_failing_job_is_recorded_not_lost(monkeypatch, django_capture_on_commit_callbacks):
    plan = random_plan()

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(batch.jobs, "plan_reroute", boom)
    with django_capture_on_commit_callbacks(execute=True):
        job = batch.reroute_job_start(plan=plan, scope="full")
    job.refresh_from_db()
    assert job.status == "failed" and "database went away" in job.error and job.finished_at


def test_unknown_scope_is_refused():
    plan = make_plan()
    with pytest.raises(ValueError):
        batch.reroute_job_start(plan=plan, scope="everything")


def test_text_with_commas_quotes_and_newlines_is_read_exactly():
    plan = make_plan()
    make_territory(plan, code="ODD", rule=cond("city", "in", ['a,b "c"', "line\nbreak", "Zürich"]))
    make_territory(plan, code="NAME", rule=cond("name", "prefix", ['x,"']))
    cities = ['a,b "c"', 'A,B "C"', "line\nbreak", "zürich", "Zürich", "", None, ",", '"']
    Account.objects.bulk_create(
        Account(name=name, city=city or "", country="US")
        for name in ['x,"y', "plain", ""] for city in cities
    )
    now = timezone.now()
    batched, single = both_ways(plan, lambda: batch.plan_reroute(plan=plan, now=now), now)
    assert batched == single
    placed = {t for _, t in batched["where"] if t}
    assert len(placed) == 2


@pytest.mark.django_db(transaction=True)
def test_worker_connections_read_and_write_what_one_connection_would(monkeypatch):
    """On PostgreSQL a large run reads and writes through two worker connections (committed data
    only, so this test commits): the result must equal routing account by account."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("worker connections are a PostgreSQL path")
    plan = random_plan(seed=17)
    monkeypatch.setattr(batch.workers, "PARALLEL_MIN", 1)
    opened: list[int] = []
    real_connection = batch.workers.worker_connection

    def counted_connection():
        opened.append(1)
        return real_connection()

    monkeypatch.setattr(batch.workers, "worker_connection", counted_connection)
    now = timezone.now()
    result = batch.plan_reroute(plan=plan, now=now, chunk_size=29)
    assert len(opened) >= 3  # the run really took the worker path: two readers, writers
    assert result.rows_inserted > 0 and result.processed == Account.objects.count()
    assert result.decisions == RoutingDecision.objects.filter(plan=plan).count()  # parts share decisions
    parallel = state(plan)
    AccountTerritory.objects.filter(plan=plan).delete()
    route_one_by_one(plan, now)
    assert parallel == state(plan)
    # A scoped run after a rule change writes through the workers too; routing each account
    # afterwards must find nothing left to write.
    ny = Territory.objects.get(plan=plan, code="US-NY")
    Territory.objects.filter(pk=ny.pk).update(rule=cond("state", "in", ["US-NY", "US-TX"]), priority=4)
    services.plan_touch(plan=plan)
    later = now + dt.timedelta(minutes=1)
    scoped = batch.plan_reroute(plan=plan, territory_ids=[ny.pk], now=later)
    assert scoped.moved > 0
    rows = AccountTerritory.objects.count()
    route_one_by_one(plan, later)
    assert AccountTerritory.objects.count() == rows
