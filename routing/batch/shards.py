"""A full re-route split across task workers: account-id ranges, each its own django-q2 task.

``reroute_job_run`` hands a full (not dry) re-route of at least ``ROUTING_SHARD_FROM`` accounts to
``shards_start``: the accounts are cut into ranges of ``ROUTING_SHARD_SIZE`` ids in id order (one
window query), one ``RoutingJobShard`` row each, and one ``routing.tasks.reroute_shard_run`` task
each, queued after commit. Any worker on any machine takes a shard and runs ``plan_reroute`` over
its range: it reads, routes and writes its own accounts' rows, and shares the run's decisions with
the other shards (``write._shared_decision_ids``: every shard of one run uses the parent's run
time, and each distinct outcome is stored once).

The parent job's ``processed`` and ``changed`` add up as shards finish, so its page shows the
progress; the shard that finishes last closes the job (done, with the counts summed, or failed).
A shard that fails is queued again, up to ``SHARD_ATTEMPTS`` times. Nothing is lost when a worker
dies mid-shard: each chunk it wrote is committed, and the next attempt re-reads its range and
writes only what still differs from where the engine puts the accounts."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_q.tasks import async_task

from routing.batch.reroute import SAMPLE_SIZE, plan_reroute
from routing.models import RoutingJob, RoutingJobShard
from salesos.models import Account
from territories.models import RoutingDecision

log = logging.getLogger(__name__)

SHARD_ATTEMPTS = 3
Status = RoutingJob.Status


def shards_wanted(*, job: RoutingJob) -> bool:
    """Whether this job runs sharded: a full, written re-route of at least ROUTING_SHARD_FROM
    accounts (smaller ones run in one process, as before)."""
    if job.scope != RoutingJob.Scope.FULL or job.dry_run:
        return False
    return Account.objects.count() >= settings.ROUTING_SHARD_FROM


def shard_bounds(*, size: int) -> list[int]:
    """The first account id of every ``size`` accounts in id order (one window query)."""
    table = Account._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM {table}) AS numbered "  # noqa: S608
            "WHERE (n - 1) %% %s = 0 ORDER BY id",
            [size],
        )
        return [row[0] for row in cursor.fetchall()]


def _enqueue(shard_id: int) -> None:
    async_task("routing.tasks.reroute_shard_run", shard_id, task_name=f"reroute-shard-{shard_id}")


def shards_start(*, job: RoutingJob, size: int | None = None) -> list[RoutingJobShard]:
    """Cuts the job's accounts into ranges and queues one task per range (after commit). The job
    is running from here; its run time (``params["now"]``) is the one every shard writes with."""
    size = size or settings.ROUTING_SHARD_SIZE
    now = timezone.now()
    with transaction.atomic():
        RoutingJobShard.objects.filter(job=job).delete()  # a failed job run again starts over
        bounds = shard_bounds(size=size)
        shards = RoutingJobShard.objects.bulk_create([
            RoutingJobShard(job=job, number=i + 1, first_id=first, before_id=after)
            for i, (first, after) in enumerate(zip(bounds, [*bounds[1:], None], strict=True))
        ])
        params = {**(job.params or {}), "now": now.isoformat(), "shards": len(shards), "shard_size": size}
        RoutingJob.objects.filter(pk=job.pk).update(
            params=params, total=Account.objects.count(), processed=0, changed=0
        )
        for shard in shards:
            transaction.on_commit(functools.partial(_enqueue, shard.pk))
    if not shards:
        _close(job_id=job.pk)
    return shards


LAST_ID = 2**62  # the last shard has no upper end: accounts added since the cut are in it


def _id_range(shard: RoutingJobShard) -> tuple[int, int]:
    return shard.first_id, (shard.before_id - 1 if shard.before_id is not None else LAST_ID)


def reroute_shard_run(*, shard_id: int) -> RoutingJobShard | None:
    """Runs one shard (a task): routes and writes its range, adds its counts to the parent, and
    closes the parent when it is the last. A failure is recorded and the shard queued again
    while attempts remain."""
    shard = RoutingJobShard.objects.select_related("job__plan").filter(pk=shard_id).first()
    if shard is None or shard.status == Status.DONE or shard.job.status != Status.RUNNING:
        return shard
    job = shard.job
    # Claim this attempt: the update matches only while nobody else claimed the shard since it was
    # read, so two deliveries of one task never both run it.
    attempt = shard.attempts + 1
    claimed = RoutingJobShard.objects.filter(pk=shard.pk, attempts=shard.attempts).exclude(status=Status.DONE).update(
        status=Status.RUNNING, attempts=attempt, started_at=timezone.now(), error=""
    )
    if not claimed:
        return shard
    clock = time.perf_counter()
    try:
        now = parse_datetime(job.params["now"]) if job.params.get("now") else None
        result = plan_reroute(plan=job.plan, id_range=_id_range(shard), now=now, shared_decisions=True)
    except Exception as exc:  # noqa: BLE001 - recorded on the shard, then retried or the job fails
        log.exception("Shard %s of re-route job %s failed", shard.number, job.pk)
        failed = RoutingJobShard.objects.filter(pk=shard.pk, attempts=attempt, status=Status.RUNNING).update(
            status=Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        shard.refresh_from_db()
        if failed:  # otherwise the watchdog already gave up on this attempt and acted
            _retry_or_close(shard)
        return shard
    with transaction.atomic():
        # An attempt the watchdog took for lost may still finish: its work stands (it wrote only
        # what differed), unless a newer attempt has claimed the shard and will count it.
        finished = RoutingJobShard.objects.filter(pk=shard.pk, attempts=attempt).exclude(status=Status.DONE).update(
            status=Status.DONE, total=result.total, changed=result.changed,
            result={**result.to_dict(), "seconds": result.seconds},
            seconds=round(time.perf_counter() - clock, 3), finished_at=timezone.now(),
        )
        if finished:
            RoutingJob.objects.filter(pk=job.pk).update(
                processed=F("processed") + result.total, changed=F("changed") + result.changed
            )
    _close(job_id=job.pk)
    shard.refresh_from_db()
    return shard


def _retry_or_close(shard: RoutingJobShard) -> None:
    if shard.attempts < SHARD_ATTEMPTS:
        transaction.on_commit(functools.partial(_enqueue, shard.pk))
    else:
        _close(job_id=shard.job_id)


def shards_requeue_lost(*, timeout_s: float | None = None) -> list[RoutingJobShard]:
    """The watchdog (a scheduled task, every minute): a shard claimed by a worker that died (killed,
    its machine lost) stays running for ever, since no worker will report on it. A running
    shard of a running job whose attempt started more than ``ROUTING_SHARD_TIMEOUT`` seconds ago
    is marked failed and queued again while attempts remain (its job fails otherwise); the new
    attempt re-reads its range and writes only what still differs."""
    timeout = settings.ROUTING_SHARD_TIMEOUT if timeout_s is None else timeout_s
    now = timezone.now()
    cutoff = now - dt.timedelta(seconds=timeout)
    lost = []
    candidates = RoutingJobShard.objects.filter(
        status=Status.RUNNING, started_at__lt=cutoff, job__status=Status.RUNNING
    ).select_related("job")
    for shard in candidates:
        # The same guard as a claim: only this attempt, and only while it is still running.
        marked = RoutingJobShard.objects.filter(pk=shard.pk, attempts=shard.attempts, status=Status.RUNNING).update(
            status=Status.FAILED, finished_at=now,
            error=f"Lost: attempt {shard.attempts} gave no answer for {timeout:g} s (its worker stopped?).",
        )
        if marked:
            shard.refresh_from_db()
            log.warning("Shard %s of re-route job %s lost; attempt %s of %s", shard.number, shard.job_id,
                        shard.attempts, SHARD_ATTEMPTS)
            with transaction.atomic():
                _retry_or_close(shard)
            lost.append(shard)
    return lost


def _close(*, job_id: int) -> None:
    """Done when every shard is done (the counts summed), failed when a shard ran out of
    attempts; otherwise still running. The job row is locked, so only one shard closes it."""
    with transaction.atomic():
        job = RoutingJob.objects.select_for_update().filter(pk=job_id, status=Status.RUNNING).first()
        if job is None:
            return
        shards = list(RoutingJobShard.objects.filter(job=job).order_by("number"))
        spent = [s for s in shards if s.status == Status.FAILED and s.attempts >= SHARD_ATTEMPTS]
        if spent:
            RoutingJob.objects.filter(pk=job.pk).update(
                status=Status.FAILED, finished_at=timezone.now(),
                error=f"Shard {spent[0].number} of {len(shards)} failed {spent[0].attempts} times: "
                      f"{spent[0].error}"[:2000],
            )
        elif all(s.status == Status.DONE for s in shards):
            result = merged_result(job=job, shards=shards)
            RoutingJob.objects.filter(pk=job.pk).update(
                status=Status.DONE, result=result, total=result["counts"]["total"],
                processed=result["counts"]["processed"], changed=result["counts"]["changed"],
                finished_at=timezone.now(),
            )


def merged_result(*, job: RoutingJob, shards: list[RoutingJobShard]) -> dict[str, Any]:
    """The shards' results as one job result: counts summed, per-territory moves summed, the
    first moves as the sample, and each shard's size and time."""
    counts: Counter = Counter()
    moves: dict[Any, dict[str, Any]] = {}
    sample: list[dict[str, Any]] = []
    for shard in shards:
        part = shard.result or {}
        counts.update(part.get("counts", {}))
        for row in part.get("territories", []):
            into = moves.setdefault(row["id"], {**row, "in": 0, "out": 0})
            into["in"] += row["in"]
            into["out"] += row["out"]
        sample.extend(part.get("sample", [])[: max(0, SAMPLE_SIZE - len(sample))])
    # Shards share decisions, so each counted some another stored: count what the run stored.
    now = parse_datetime(job.params["now"]) if (job.params or {}).get("now") else None
    counts["decisions"] = RoutingDecision.objects.filter(plan_id=job.plan_id, created_at=now).count() if now else 0
    territories = sorted(moves.values(), key=lambda row: (-(row["in"] + row["out"]), row["code"] or ""))
    return {
        "plan_id": job.plan_id,
        "scope": job.scope,
        "dry_run": job.dry_run,
        "counts": {key: int(value) for key, value in counts.items()},
        "territories": territories,
        "sample": sample,
        "shards": [{"number": s.number, "accounts": s.total, "seconds": s.seconds, "attempts": s.attempts}
                   for s in shards],
    }
