"""Running a simulation: ``simulation_start`` records it and queues the task after commit;
``simulation_run`` (the task) routes every live account through the draft with the batch path
(``routing.batch.plan_reroute`` with the draft as plan: read, route, diff, write, only what
changed since the last run), then measures the impact against the active plan. Account locks
name the active plan's territories; the draft is routed with each lock on the draft's territory of
the same code (``territories.locks``), the rule activation moves the locks by, so a simulation
places locked accounts where activation will.

The draft's rows are the simulation's result and belong to the draft alone: every live reader
asks the active plan (``territories.placement``), so nobody's territory or owner changes. A second run
writes only the accounts whose placement changed since the first (the diff), so re-running after
an edit costs what the edit moves.

``simulations_mark_stale``: a change to the draft or to the active plan (``territories.hooks.
plan_changed``) marks their simulations stale; the page offers to run again."""

from __future__ import annotations

import logging
import time

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from planning.models import Simulation
from planning.simulation.impact import impact_measure
from routing.batch import plan_reroute
from routing.models import RoutingJob
from territories.locks import lock_targets
from territories.models import TerritoryPlan

log = logging.getLogger(__name__)

TASK = "planning.tasks.simulation_run_task"


class SimulationRefused(Exception):
    """The plan cannot be simulated (it is not a draft, or a run is already going)."""


def simulable(plan: TerritoryPlan) -> bool:
    """Only drafts are simulated: the active plan is what they are measured against, and a
    staged plan is locked."""
    return plan.status == TerritoryPlan.Status.DRAFT


@transaction.atomic
def simulation_start(*, plan: TerritoryPlan, by=None, queue: bool = True) -> Simulation:
    """Records a simulation of the draft and queues it once the transaction commits. Refused
    for a plan that is not a draft, or while another run of it is queued or running. Without
    ``queue`` the caller runs it (``simulation_run``)."""
    plan = TerritoryPlan.objects.select_for_update().get(pk=plan.pk)
    if not simulable(plan):
        raise SimulationRefused(f"Only draft plans are simulated; {plan.name} is {plan.get_status_display().lower()}.")
    if Simulation.objects.filter(plan=plan, status__in=[Simulation.Status.QUEUED, Simulation.Status.RUNNING]).exists():
        raise SimulationRefused("A simulation of this plan is already running; its page shows the progress.")
    job = RoutingJob.objects.create(plan=plan, scope=RoutingJob.Scope.FULL, created_by=by)
    simulation = Simulation.objects.create(plan=plan, baseline=TerritoryPlan.active(), job=job, created_by=by,
                                           plan_version=plan.version, phase="Queued")

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task(TASK, simulation.pk, task_name=f"simulation-{simulation.pk}")

    if queue:
        transaction.on_commit(enqueue)
    return simulation


def _phase(simulation: Simulation, **fields) -> None:
    Simulation.objects.filter(pk=simulation.pk).update(**fields)


def simulation_run(*, simulation_id: int) -> Simulation | None:
    """Runs a queued simulation: routes every account through the draft, then measures the
    impact. The record is updated outside any transaction, so a failure is recorded; the rows
    already written stay (a re-run writes only what still differs)."""
    simulation = Simulation.objects.select_related("plan", "baseline", "job").filter(pk=simulation_id).first()
    if simulation is None or simulation.status not in (Simulation.Status.QUEUED, Simulation.Status.FAILED):
        return simulation
    started = time.perf_counter()
    now = timezone.now()
    _phase(simulation, status=Simulation.Status.RUNNING, phase="Routing every account through the draft", error="")
    job = simulation.job
    if job is not None:
        RoutingJob.objects.filter(pk=job.pk).update(status=RoutingJob.Status.RUNNING, started_at=now)
    try:
        plan = simulation.plan
        # Locks name the active plan's territories: route them as activation will move them.
        locks = (lock_targets(source_plan_id=simulation.baseline_id, target_plan_id=plan.pk)
                 if simulation.baseline_id else None)
        result = plan_reroute(plan=plan, job=job, lock_map=locks)
        if job is not None:
            RoutingJob.objects.filter(pk=job.pk).update(
                status=RoutingJob.Status.DONE, result=result.to_dict(), total=result.total,
                processed=result.processed, changed=result.changed, finished_at=timezone.now(),
            )
        _phase(simulation, phase="Measuring the impact against the active plan")
        measured = time.perf_counter()
        impact = impact_measure(draft=plan, baseline=simulation.baseline, today=timezone.localdate())
        impact["routed"] = result.counts()
        impact["seconds"] = {**result.seconds, "impact": round(time.perf_counter() - measured, 3)}
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the simulation, then logged
        log.exception("Simulation %s failed", simulation.pk)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        _phase(simulation, status=Simulation.Status.FAILED, phase="", error=error, finished_at=timezone.now())
        if job is not None:
            RoutingJob.objects.filter(pk=job.pk).update(status=RoutingJob.Status.FAILED, error=error,
                                                        finished_at=timezone.now())
    else:
        _phase(simulation, status=Simulation.Status.DONE, phase="", impact=impact, finished_at=timezone.now(),
               seconds=round(time.perf_counter() - started, 3))
    simulation.refresh_from_db()
    return simulation


def simulations_mark_stale(*, plan_id: int) -> int:
    """Marks stale the finished simulations of this plan, or measured against it. Returns how
    many."""
    return Simulation.objects.filter(Q(plan_id=plan_id) | Q(baseline_id=plan_id), stale=False).exclude(
        status=Simulation.Status.FAILED
    ).update(stale=True)


def latest_simulation(plan: TerritoryPlan) -> Simulation | None:
    return Simulation.objects.filter(plan=plan).select_related("job", "baseline").first()
