"""Re-route jobs: ``reroute_job_start`` records a ``RoutingJob`` and queues
``routing.tasks.reroute_job_run`` after commit; ``reroute_job_run`` runs it and records the result
or the error. The job's counters move every chunk so its page can poll them."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from routing.batch.reroute import plan_reroute
from routing.batch.shards import shards_start, shards_wanted
from routing.models import RoutingJob
from territories.models import TerritoryPlan

log = logging.getLogger(__name__)

SCOPES = tuple(RoutingJob.Scope.values)


def reroute_job_start(
    *,
    plan: TerritoryPlan,
    scope: str,
    territory_ids: Iterable[int] | None = None,
    account_ids: Iterable[int] | None = None,
    dry_run: bool = False,
    by=None,
) -> RoutingJob:
    """Records a re-route job and queues it once the caller's transaction commits."""
    if scope not in SCOPES:
        raise ValueError(f"Unknown scope {scope!r}")
    params: dict[str, Any] = {}
    if scope == RoutingJob.Scope.TERRITORIES:
        params["territory_ids"] = sorted({int(t) for t in territory_ids or ()})
    elif scope == RoutingJob.Scope.ACCOUNTS:
        params["account_ids"] = sorted({int(a) for a in account_ids or ()})
    job = RoutingJob.objects.create(plan=plan, scope=scope, params=params, dry_run=dry_run, created_by=by)

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task("routing.tasks.reroute_job_run", job.pk, task_name=f"reroute-job-{job.pk}")

    transaction.on_commit(enqueue)
    return job


def reroute_job_run(*, job_id: int) -> RoutingJob | None:
    """Runs a queued job: running, then done with its result, or failed with the error. The job
    row is updated outside any transaction, so it survives a failed re-route."""
    job = RoutingJob.objects.select_related("plan").filter(pk=job_id).first()
    if job is None or job.status not in (RoutingJob.Status.QUEUED, RoutingJob.Status.FAILED):
        return job
    RoutingJob.objects.filter(pk=job.pk).update(status=RoutingJob.Status.RUNNING, started_at=timezone.now(), error="")
    if shards_wanted(job=job):
        # Many accounts: one task per account-id range, on any worker; the last one closes the job.
        job.status = RoutingJob.Status.RUNNING
        shards_start(job=job)
        job.refresh_from_db()
        return job
    try:
        params = job.params or {}
        kwargs: dict[str, Any] = {}
        if job.scope == RoutingJob.Scope.TERRITORIES:
            kwargs["territory_ids"] = [int(t) for t in params.get("territory_ids", [])]
        elif job.scope == RoutingJob.Scope.ACCOUNTS:
            kwargs["account_ids"] = [int(a) for a in params.get("account_ids", [])]
        result = plan_reroute(plan=job.plan, dry_run=job.dry_run, job=job, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, then logged
        log.exception("Re-route job %s failed", job.pk)
        RoutingJob.objects.filter(pk=job.pk).update(
            status=RoutingJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
    else:
        RoutingJob.objects.filter(pk=job.pk).update(
            status=RoutingJob.Status.DONE,
            result=result.to_dict(),
            total=result.total,
            processed=result.processed,
            changed=result.changed,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job
