"""The capacity planner (admins and directors): workload per territory and rep against capacity."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from analytics import charts
from planning import capacity
from planning.quota_page import may_plan
from salesos.roles import is_admin
from territories.models import TerritoryPlan

SORT_KEYS = {"code", "holder", "accounts", "pipeline", "tam", "load"}


@require_GET
@login_required
def capacity_page(request: HttpRequest) -> HttpResponse:
    if not may_plan(request.user):
        raise Http404
    sort = request.GET.get("sort", "-load")
    if sort.lstrip("-") not in SORT_KEYS:
        sort = "-load"
    report = capacity.capacity_report(user=request.user, plan=TerritoryPlan.active(), sort=sort)
    chart = None
    loads = [(r.territory.code, r.load.percent) for r in report.territories if r.load.percent is not None]
    if loads:
        chart = charts.distribution([
            ("Territories", [round(p, 1) for _, p in loads]),
            ("Reps", [round(r.load.percent, 1) for r in report.reps if r.load.percent is not None]),
        ], y_title="% of capacity")
    context = {"report": report, "sort": sort, "chart": chart, "flag_labels": capacity.FLAG_LABELS,
               "edits_settings": is_admin(request.user)}
    return render(request, "planning/capacity.html", context)
