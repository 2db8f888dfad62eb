"""Builds the stored figures (``analytics.models.FiguresBuild``): each territory's own
performance, forecast and TAM figures and the credit lines for one period, computed by the very
selectors the pages run live (``own_figures``, ``forecast_own``, ``tam_own``, ``credit_lines``)
over every territory of the plan, then swapped in within one transaction, so a reader sees the
previous build or the new one, never a part.

Refreshed by ``analytics.tasks.figures_refresh`` when a page asks (no build yet, or older than
``ANALYTICS_FIGURES_MAX_AGE``), when the plan changes (``territories.hooks.plan_changed``) and on a
schedule (``analytics.tasks.figures_refresh_due``) that catches deal, activity, quota and
re-route changes.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone

from analytics.models import CoverageFigures, CreditFigures, FiguresBuild, TerritoryFigures
from analytics.selectors.comparisons import tam_own
from analytics.selectors.coverage import region_rows
from analytics.selectors.credit import credit_lines
from analytics.selectors.forecast import forecast_own
from analytics.selectors.performance import own_figures
from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import plan_scope
from salesos.models import Account


def figures_build(*, plan_id: int, period_id: int) -> int:
    """Computes and stores the plan's figures of the period; the number of territories stored (0
    when nobody asked for them, or the plan or period is gone)."""
    build = FiguresBuild.objects.select_related("plan", "period").filter(plan_id=plan_id, period_id=period_id).first()
    if build is None:
        return 0
    started, clock = timezone.now(), time.perf_counter()
    scope = plan_scope(build.plan)
    period = build.period
    performance = own_figures(scope=scope, start=period.start_date, end=period.end_date, period_id=period.pk)
    forecast = forecast_own(scope=scope, choice=PeriodChoice(period=period, periods=[period]))
    tam = tam_own(scope=scope)
    credit = credit_lines(scope=scope, choice=PeriodChoice(period=period, periods=[period]))
    rows = [
        TerritoryFigures(
            build_id=build.pk, territory_id=pk, **performance.get(pk, {}), **forecast.get(pk, {}), **tam.get(pk, {})
        )
        for pk in scope.nodes
    ]
    with transaction.atomic():
        if not FiguresBuild.objects.select_for_update().filter(pk=build.pk).exists():
            return 0
        TerritoryFigures.objects.filter(build_id=build.pk).delete()
        TerritoryFigures.objects.bulk_create(rows, batch_size=2000)
        CreditFigures.objects.filter(build_id=build.pk).delete()
        CreditFigures.objects.bulk_create(
            [
                CreditFigures(
                    build_id=build.pk,
                    user_id=line.user_id,
                    territory_id=line.territory_id,
                    slot=line.slot,
                    deals=line.deals,
                    booked=line.booked,
                    credit=line.credit,
                )
                for line in credit
            ],
            batch_size=2000,
        )
        FiguresBuild.objects.filter(pk=build.pk).update(
            built_at=started, build_seconds=round(time.perf_counter() - clock, 3)
        )
        # A request made while this build ran stays pending: its change may have come too late.
        FiguresBuild.objects.filter(pk=build.pk, requested_at__lte=started).update(requested_at=None)
    return len(rows)


def coverage_build(*, plan_id: int) -> int:
    """Counts and stores the coverage dashboard's company-wide region rows for the plan, with the
    page's own query over every account (what an admin sees); the number of regions stored."""
    stored = CoverageFigures.objects.select_related("plan").filter(plan_id=plan_id).first()
    if stored is None:
        return 0
    started = timezone.now()
    rows = region_rows(accounts=Account.objects.all(), plan=stored.plan)
    regions = [{**row, "open_pipeline": str(row["open_pipeline"])} for row in rows]
    with transaction.atomic():
        if not CoverageFigures.objects.select_for_update().filter(pk=stored.pk).exists():
            return 0
        CoverageFigures.objects.filter(pk=stored.pk).update(built_at=started, regions=regions)
        CoverageFigures.objects.filter(pk=stored.pk, requested_at__lte=started).update(requested_at=None)
    return len(regions)
