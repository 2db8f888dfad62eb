"""The simulator's pages: a draft's simulation (run, progress, impact) and two drafts side by side.
Admins and directors, and managers on drafts shared with them (``planning.simulation.access``);
below the admin each reader sees the territories they may see (``planning.simulation.report``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from planning.simulation import access, services
from planning.simulation.charts import flow_figure
from planning.simulation.report import simulation_report
from territories.models import TerritoryPlan


def _context(plan: TerritoryPlan, user) -> dict[str, Any]:
    simulation = services.latest_simulation(plan)
    context: dict[str, Any] = {"plan": plan, "simulation": simulation, "simulable": services.simulable(plan),
                               "may_run": services.simulable(plan) and access.may_run(user),
                               "polling": simulation is not None and simulation.is_live}
    if simulation is not None and simulation.is_done:
        report = simulation_report(simulation=simulation, user=user)
        context.update(report=report, flow_chart=flow_figure(report.flows))
    return context


@require_GET
@login_required
def simulation_page(request, pk: int) -> HttpResponse:
    plan = access.simulation_plan_get(user=request.user, pk=pk)
    htmx: HtmxDetails = request.htmx
    template = "planning/simulation/page.html#progress" if htmx else "planning/simulation/page.html"
    return render(request, template, _context(plan, request.user))


@require_POST
@login_required
def simulation_run(request, pk: int) -> HttpResponse:
    plan = access.simulation_plan_get(user=request.user, pk=pk, run=True)
    try:
        services.simulation_start(plan=plan, by=request.user)
    except services.SimulationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Simulating {plan.name}: every account is being routed through the draft.")
    return redirect("planning:simulation", pk=plan.pk)


def _chosen(request, key: str, plans: list[TerritoryPlan]) -> TerritoryPlan | None:
    raw = request.GET.get(key, "")
    return next((p for p in plans if str(p.pk) == raw), None)


@require_GET
@login_required
def simulation_compare(request) -> HttpResponse:
    """Two plans' latest simulations side by side; a choice that is not a plan the user may open
    is ignored (the form says so)."""
    if not access.opens_simulations(request.user):
        raise Http404
    plans = list(access.simulated_plans_for(request.user))
    sides = []
    problems = []
    for key in ("a", "b"):
        plan = _chosen(request, key, plans)
        if request.GET.get(key) and plan is None:
            problems.append(f"Plan {key.upper()} is not a draft you may open; pick one from the list.")
        simulation = services.latest_simulation(plan) if plan is not None else None
        report = simulation_report(simulation=simulation, user=request.user) if (
            simulation is not None and simulation.is_done) else None
        sides.append({"key": key, "plan": plan, "simulation": simulation, "report": report})
    same = sides[0]["plan"] is not None and sides[0]["plan"] == sides[1]["plan"]
    if same:
        problems.append("Pick two different plans to compare.")
    return render(request, "planning/simulation/compare.html",
                  {"plans": plans, "sides": sides, "problems": problems},
                  status=400 if problems else 200)
