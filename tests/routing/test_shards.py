"""A full re-route split into account-id shards (one task each) ends exactly where a
single-process run does, account by account, with each decision stored once; a failed or
interrupted shard is retried and the retry finishes the work; small runs are not split."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from routing import batch, services
from routing.batch import shards, write
from routing.models import RoutingJob, RoutingJobShard
from salesos.models import Account
from territories.models import AccountTerritory, RoutingDecision
from tests.routing.test_batch import random_plan, state

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    services._indexes.clear()
    yield
    services._indexes.clear()


def single_process_state(plan) -> dict:
    with transaction.atomic():
        batch.plan_reroute(plan=plan, now=timezone.now())
        single = state(plan)
        transaction.set_rollback(True)
    return single


def run_job(plan, capture) -> RoutingJob:
    with capture(execute=True):
        job = batch.reroute_job_start(plan=plan, scope="full")
    job.refresh_from_db()
    return job


def stored_decisions_are_distinct(plan) -> None:
    stored = list(RoutingDecision.objects.filter(plan=plan).values_list("plan_version", "matched",
                                                                        "locked_territory_id"))
    assert len(stored) == len({(v, tuple(m), lock) for v, m, lock in stored}) > 0
    used = set(AccountTerritory.objects.filter(plan=plan, decision__isnull=False).values_list("decision_id", flat=True))
    assert used == set(RoutingDecision.objects.filter(plan=plan).values_list("pk", flat=True))


@pytest.mark.parametrize("seed", [7, 23, 101])
@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=37)
def test_a_sharded_full_reroute_equals_a_single_process_one(seed, django_capture_on_commit_callbacks):
    plan = random_plan(seed=seed)
    single = single_process_state(plan)
    job = run_job(plan, django_capture_on_commit_callbacks)

    assert job.status == RoutingJob.Status.DONE, job.error
    assert state(plan) == single
    n = Account.objects.count()
    assert job.params["shards"] == len(job.result["shards"]) == -(-n // 37)
    assert sum(s["accounts"] for s in job.result["shards"]) == job.total == job.processed == n
    assert job.changed == job.result["counts"]["changed"] == len({r[0] for r in single["rows"]})
    assert job.result["counts"]["decisions"] == RoutingDecision.objects.filter(plan=plan).count()
    stored_decisions_are_distinct(plan)


@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=50)
def test_a_failed_shard_is_retried_and_the_run_still_equals_a_single_one(monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    plan = random_plan(seed=11)
    single = single_process_state(plan)
    real, calls = shards.plan_reroute, []

    def flaky(**kwargs):
        calls.append(kwargs["id_range"][0])
        if len(calls) == 2:
            raise RuntimeError("worker lost its connection")
        return real(**kwargs)

    monkeypatch.setattr(shards, "plan_reroute", flaky)
    job = run_job(plan, django_capture_on_commit_callbacks)
    assert job.status == RoutingJob.Status.DONE, job.error
    assert state(plan) == single
    retried = RoutingJobShard.objects.get(job=job, first_id=calls[1])
    assert retried.attempts == 2 and retried.status == "done" and retried.error == ""
    assert sorted(RoutingJobShard.objects.filter(job=job).values_list("attempts", flat=True))[-2:] == [1, 2]


@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=100)
def test_a_shard_interrupted_mid_write_loses_nothing(monkeypatch, django_capture_on_commit_callbacks):
    """The first attempt of a shard commits one chunk, then dies; the retry re-reads its range and
    writes only what still differs."""
    plan = random_plan(seed=5)
    single = single_process_state(plan)
    real_write, real_reroute, chunks = write._write_chunk, shards.plan_reroute, []

    def dies_after_one_chunk(*args, **kwargs):
        chunks.append(1)
        if len(chunks) == 2:
            raise ConnectionError("worker killed")
        return real_write(*args, **kwargs)

    def small_chunks(**kwargs):
        return real_reroute(**kwargs, chunk_size=20)

    monkeypatch.setattr(write, "_write_chunk", dies_after_one_chunk)
    monkeypatch.setattr(shards, "plan_reroute", small_chunks)
    job = run_job(plan, django_capture_on_commit_callbacks)
    assert job.status == RoutingJob.Status.DONE, job.error
    assert state(plan) == single
    assert RoutingJobShard.objects.get(job=job, number=1).attempts == 2
    stored = list(RoutingDecision.objects.filter(plan=plan).values_list("matched", "locked_territory_id"))
    assert len(stored) == len({(tuple(m), lock) for m, lock in stored})  # the retry reused the run's decisions
    # Every current row exists once: the retry did not write again what the dead attempt committed.
    current = AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True, is_primary=True)
    assert current.count() == current.values("account_id").distinct().count()


@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=60)
def test_a_shard_that_keeps_failing_fails_the_job(monkeypatch, django_capture_on_commit_callbacks):
    plan = random_plan(seed=3)
    real = shards.plan_reroute

    def broken_range(**kwargs):
        if kwargs["id_range"][0] == Account.objects.order_by("pk").values_list("pk", flat=True)[60]:
            raise RuntimeError("bad data in this range")
        return real(**kwargs)

    monkeypatch.setattr(shards, "plan_reroute", broken_range)
    job = run_job(plan, django_capture_on_commit_callbacks)
    assert job.status == RoutingJob.Status.FAILED
    assert job.error.startswith("Shard 2 of 4 failed 3 times: RuntimeError: bad data in this range")
    assert job.finished_at is not None


def test_small_runs_stay_in_one_process(django_capture_on_commit_callbacks):
    plan = random_plan(seed=2)
    job = run_job(plan, django_capture_on_commit_callbacks)
    assert job.status == "done" and not job.shards.exists() and "shards" not in job.params
    with override_settings(ROUTING_SHARD_FROM=1):
        with django_capture_on_commit_callbacks(execute=True):
            dry = batch.reroute_job_start(plan=plan, scope="full", dry_run=True)
        assert not dry.shards.exists()  # a dry run is one process: it writes nothing to share


def _dies_once_claimed(monkeypatch, number: int, *, started_ago_s: float, attempts: int = 1) -> None:
    """The shard ``number``'s first delivery is taken by a worker that is then killed: the shard
    is left running, claimed ``started_ago_s`` seconds ago, and no task reports on it."""
    real, dropped = shards._enqueue, []

    def enqueue(shard_id: int) -> None:
        shard = RoutingJobShard.objects.get(pk=shard_id)
        if shard.number == number and not dropped:
            dropped.append(shard_id)
            RoutingJobShard.objects.filter(pk=shard_id).update(
                status="running", attempts=attempts,
                started_at=timezone.now() - timezone.timedelta(seconds=started_ago_s),
            )
            return
        real(shard_id)

    monkeypatch.setattr(shards, "_enqueue", enqueue)


@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=50, ROUTING_SHARD_TIMEOUT=600)
def test_a_shard_lost_with_its_worker_is_queued_again_by_the_watchdog(monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    plan = random_plan(seed=13)
    single = single_process_state(plan)
    _dies_once_claimed(monkeypatch, 2, started_ago_s=601)
    job = run_job(plan, django_capture_on_commit_callbacks)
    assert job.status == RoutingJob.Status.RUNNING  # the other shards finished; shard 2 is stuck
    assert state(plan) != single

    with django_capture_on_commit_callbacks(execute=True):
        lost = shards.shards_requeue_lost()
    assert [s.number for s in lost] == [2]
    job.refresh_from_db()
    assert job.status == RoutingJob.Status.DONE, job.error
    assert state(plan) == single
    again = RoutingJobShard.objects.get(job=job, number=2)
    assert again.status == "done" and again.attempts == 2 and again.error == ""
    assert job.processed == job.total == Account.objects.count()  # counted once


@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=50, ROUTING_SHARD_TIMEOUT=600)
def test_the_watchdog_leaves_a_shard_within_its_timeout_alone(monkeypatch, django_capture_on_commit_callbacks):
    plan = random_plan(seed=13)
    _dies_once_claimed(monkeypatch, 2, started_ago_s=590)
    job = run_job(plan, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        assert shards.shards_requeue_lost() == []
    shard = RoutingJobShard.objects.get(job=job, number=2)
    assert shard.status == "running" and shard.attempts == 1
    job.refresh_from_db()
    assert job.status == RoutingJob.Status.RUNNING


@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=50, ROUTING_SHARD_TIMEOUT=600)
def test_a_lost_shard_out_of_attempts_fails_the_job(monkeypatch, django_capture_on_commit_callbacks):
    plan = random_plan(seed=13)
    _dies_once_claimed(monkeypatch, 2, started_ago_s=601, attempts=shards.SHARD_ATTEMPTS)
    job = run_job(plan, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        shards.shards_requeue_lost()
    job.refresh_from_db()
    assert job.status == RoutingJob.Status.FAILED
    assert job.error.startswith("Shard 2 of ") and "Lost: attempt 3 gave no answer for 600 s" in job.error


@pytest.mark.parametrize("retry_runs_first", [True, False])
@override_settings(ROUTING_SHARD_FROM=1, ROUTING_SHARD_SIZE=50)
def test_a_shard_taken_for_lost_that_finishes_late_is_counted_once(retry_runs_first, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    """The watchdog gives up on a slow attempt of shard 2 while it still runs. Whichever attempt
    ends first, the shard's accounts are counted once and the run equals a single-process one."""
    plan = random_plan(seed=17)
    single = single_process_state(plan)
    real, calls = shards.plan_reroute, []

    def slow_second_shard(**kwargs):
        calls.append(kwargs["id_range"][0])
        result = real(**kwargs)
        shard = RoutingJobShard.objects.filter(first_id=kwargs["id_range"][0]).first()
        if shard is not None and shard.number == 2 and calls.count(shard.first_id) == 1:
            RoutingJobShard.objects.filter(pk=shard.pk).update(
                started_at=timezone.now() - timezone.timedelta(seconds=700))
            assert [s.number for s in shards.shards_requeue_lost(timeout_s=600)] == [2]
            if retry_runs_first:
                shards.reroute_shard_run(shard_id=shard.pk)  # another worker takes the new attempt now
        return result

    monkeypatch.setattr(shards, "plan_reroute", slow_second_shard)
    job = run_job(plan, django_capture_on_commit_callbacks)
    assert job.status == RoutingJob.Status.DONE, job.error
    assert state(plan) == single
    assert job.processed == job.total == Account.objects.count()
    assert sum(s["accounts"] for s in job.result["shards"]) == job.total
    second = RoutingJobShard.objects.get(job=job, number=2)
    assert second.status == "done" and second.attempts == (2 if retry_runs_first else 1)
