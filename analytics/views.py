"""Analytics pages: coverage, performance, comparisons and coaching, forecast and credit, and the
CSV export of each. Every figure is read for the user's part of the tree (``analytics.selectors``)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from analytics import charts, exports
from analytics.selectors import coverage_summary
from analytics.selectors.comparisons import comparison
from analytics.selectors.credit import credit_page
from analytics.selectors.forecast import forecast_page
from analytics.selectors.performance import performance_page
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from salesos.roles import sees_coverage
from territories.models import Territory
from territories.selectors import active_plan

# Rows of the territory table (and bars of its charts) per page: a wide level of the tree is
# paged rather than drawn whole.
ROWS_PER_PAGE = 25


def _shown(request: HttpRequest, rows: list, choice, focus) -> tuple[Page, str]:
    """The page of ``rows`` asked for (a bad page number shows the nearest page), and the query
    string the pager keeps."""
    keep = {"period": choice.period.pk if choice.period else ""}
    if focus is not None:
        keep["territory"] = focus.node.pk
    return Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page")), urlencode(keep)


def _territory_param(request: HttpRequest) -> tuple[int | None, str]:
    raw = request.GET.get("territory", "").strip()
    if not raw:
        return None, ""
    try:
        return int(raw), ""
    except ValueError:
        return None, "Pick a territory from the list."


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    if not sees_coverage(request.user):
        # Coverage is for the roles that work the whole tree; a rep's analytics start at their
        # territory's performance.
        return redirect("analytics:performance")
    plan = active_plan()
    coverage = None
    trend_chart = None
    if plan is not None:
        coverage = coverage_summary(plan=plan, user=request.user)
        trend_chart = charts.trend(coverage.trend, [
            ("orphaned", "Orphaned accounts"), ("vacant", "Vacant territories"), ("conflicts", "Conflicts"),
            ("white_space", "White-space areas"),
        ])
    return render(request, "analytics/index.html", {"plan": plan, "coverage": coverage, "trend_chart": trend_chart})


@require_GET
@login_required
def performance(request: HttpRequest) -> HttpResponse:
    choice = period_choice(request.GET.get("period"))
    territory_id, error = _territory_param(request)
    scope = scope_for(request.user)
    page = performance_page(scope=scope, choice=choice, territory_id=territory_id)
    if territory_id is not None and page.focus is None:
        error = "That territory is not one you can see; showing your part of the tree."
    shown, pager_query = _shown(request, page.rows, choice, page.focus)
    rows = list(shown)
    labels = [f.node.code for f in rows]
    context = {
        "plan": scope.plan, "page": page, "choice": choice, "error": error or choice.error,
        "shown": shown, "pager_query": pager_query,
        "attainment_chart": charts.bars(labels, [("Won", [f.won_amount for f in rows]),
                                                  ("Quota", [f.quota for f in rows])], y_title="amount ($)"),
        "rate_chart": charts.bars(labels, [("Win rate %", [f.win_rate or 0 for f in rows]),
                                           ("Attainment %", [f.attainment or 0 for f in rows])],
                                  y_title="percent"),
    }
    return render(request, "analytics/performance.html", context)


def _comparison_params(request: HttpRequest) -> tuple[list[int], int | None, str, str]:
    picked, error = [], ""
    for raw in request.GET.getlist("t"):
        try:
            picked.append(int(raw))
        except ValueError:
            error = "Pick territories from the list."
    try:
        level = int(request.GET["level"]) if request.GET.get("level") else None
    except ValueError:
        level, error = None, "Pick a level from the list."
    return picked, level, request.GET.get("type", "").strip(), error


def _comparison(request: HttpRequest):
    picked, level, type_, error = _comparison_params(request)
    choice = period_choice(request.GET.get("period"))
    result = comparison(scope=scope_for(request.user), choice=choice, picked=[] if error else picked, level=level,
                        type_=type_)
    result.error = error or result.error or choice.error
    return result


@require_GET
@login_required
def compare(request: HttpRequest) -> HttpResponse:
    result = _comparison(request)
    labels = [f.node.code for f in result.rows]
    context = {
        "result": result, "plan": active_plan(), "types": Territory.Type.choices,
        "picked": {int(v) for v in request.GET.getlist("t") if v.isdigit()},
        "bars": charts.bars(labels, [("Attainment %", [f.attainment or 0 for f in result.rows]),
                                     ("Win rate %", [f.win_rate or 0 for f in result.rows])], y_title="percent"),
        "spread": charts.distribution([
            ("Attainment %", [f.attainment for f in result.rows if f.attainment is not None]),
            ("Win rate %", [f.win_rate for f in result.rows if f.win_rate is not None]),
        ], y_title="percent"),
        "scatter": charts.scatter(
            [{"x": result.tam.get(f.node.pk, 0), "y": f.attainment or 0, "label": f.node.code} for f in result.rows],
            x_title="TAM (account potential, $)", y_title="attainment %"),
    }
    return render(request, "analytics/compare.html", context)


EXPORTS = {"coverage", "performance", "forecast", "credit", "compare"}


@require_GET
@login_required
def export(request: HttpRequest, kind: str) -> StreamingHttpResponse:
    """The figures of one page as CSV, for the same filters."""
    if kind not in EXPORTS:
        raise Http404
    if kind == "coverage":
        plan = active_plan()
        if plan is None or not sees_coverage(request.user):
            raise Http404
        rows = exports.coverage_csv(coverage_summary(plan=plan, user=request.user))
    else:
        choice = period_choice(request.GET.get("period"))
        territory_id, _ = _territory_param(request)
        scope = scope_for(request.user)
        if kind == "performance":
            rows = exports.performance_csv(performance_page(scope=scope, choice=choice, territory_id=territory_id))
        elif kind == "forecast":
            rows = exports.forecast_csv(forecast_page(scope=scope, choice=choice, territory_id=territory_id))
        elif kind == "compare":
            rows = exports.comparison_csv(_comparison(request))
        else:
            rows = exports.credit_csv(credit_page(scope=scope, choice=choice))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{kind}.csv"'
    return response


@require_GET
@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    choice = period_choice(request.GET.get("period"))
    territory_id, error = _territory_param(request)
    scope = scope_for(request.user)
    page = forecast_page(scope=scope, choice=choice, territory_id=territory_id)
    if territory_id is not None and page.focus is None:
        error = "That territory is not one you can see; showing your part of the tree."
    shown, pager_query = _shown(request, page.rows, choice, page.focus)
    rows = list(shown)
    labels = [f.node.code for f in rows]
    chart = charts.bars(labels, [
        ("Closed won", [f.won for f in rows]),
        ("Commit", [f.commit for f in rows]),
        ("Best case (beyond commit)", [f.best_case - f.commit for f in rows]),
        ("Other pipeline", [f.pipeline - f.best_case for f in rows]),
    ], y_title="amount ($)", stacked=True)
    return render(request, "analytics/forecast.html", {
        "plan": scope.plan, "page": page, "error": error or choice.error, "chart": chart,
        "shown": shown, "pager_query": pager_query,
    })


@require_GET
@login_required
def credit(request: HttpRequest) -> HttpResponse:
    choice = period_choice(request.GET.get("period"))
    scope = scope_for(request.user)
    page = credit_page(scope=scope, choice=choice)
    reps = page.by_rep[:20]
    chart = charts.bars([name for name, _ in reps], [("Credit", [amount for _, amount in reps])],
                        y_title="credited amount ($)", horizontal=True, height=max(240, 32 * len(reps) + 80))
    return render(request, "analytics/credit.html", {
        "plan": scope.plan, "page": page, "error": choice.error, "chart": chart,
    })
