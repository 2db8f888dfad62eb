"""The plan data page: a chosen plan's territories, assignments and performance for a fiscal
period, downloaded as CSV (one file per part) or as one XLSX workbook (``analytics.plan_data``).
Planners only (admins and directors); directors get their part of the plan."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from analytics import exports, plan_data
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from salesos.roles import opens_any_plan
from territories.models import TerritoryPlan
from territories.selectors import active_plan


def _plan(request: HttpRequest, plans) -> tuple[TerritoryPlan | None, str]:
    raw = request.GET.get("plan", "").strip()
    if not raw:
        return active_plan() or plans.first(), ""
    try:
        found = plans.filter(pk=int(raw)).first()
    except ValueError:
        found = None
    if found is None:
        return active_plan() or plans.first(), "That plan does not exist; showing the active one."
    return found, ""


@require_GET
@login_required
def plan_data_page(request: HttpRequest) -> HttpResponse:
    if not opens_any_plan(request.user):
        raise Http404
    plans = plan_data.plans_for(request.user)
    plan, error = _plan(request, plans)
    choice = period_choice(request.GET.get("period"))
    scope = scope_for(request.user, plan) if plan is not None else None
    on = plan_data.as_of(choice)
    assignments = plan_data.assignments_count(scope, on) if scope is not None else 0
    context = {
        "plans": plans, "plan": plan, "choice": choice, "error": error or choice.error, "on": on,
        "territories": len(scope.nodes) if scope else 0, "assignments": assignments,
        "xlsx_fits": assignments <= plan_data.XLSX_MAX_ROWS,
    }
    return render(request, "analytics/plan_data.html", context)


@require_GET
@login_required
def plan_data_download(request: HttpRequest, part: str) -> HttpResponse | StreamingHttpResponse:
    """One part as CSV, or (``part`` "xlsx") the workbook of all three."""
    if not opens_any_plan(request.user) or part not in (*plan_data.PARTS, "xlsx"):
        raise Http404
    plans = plan_data.plans_for(request.user)
    plan, error = _plan(request, plans)
    if plan is None or error:
        raise Http404
    choice = period_choice(request.GET.get("period"))
    scope = scope_for(request.user, plan)
    stem = slugify(f"{plan.name} {choice.period or ''}") or "plan"
    if part == "xlsx":
        if plan_data.assignments_count(scope, plan_data.as_of(choice)) > plan_data.XLSX_MAX_ROWS:
            return HttpResponse(
                "The assignments do not fit in one XLSX sheet (1,048,576 rows): download them as CSV.",
                status=400, content_type="text/plain; charset=utf-8",
            )
        response = HttpResponse(
            plan_data.workbook(scope, choice),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
        return response
    table = plan_data.table(part, scope, choice)
    streamed = StreamingHttpResponse(exports.stream(table.header, table.rows), content_type="text/csv; charset=utf-8")
    streamed["Content-Disposition"] = f'attachment; filename="{stem}-{part}.csv"'
    return streamed
