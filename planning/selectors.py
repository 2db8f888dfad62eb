"""Reads for the planning pages: the territory plans and the fiscal calendar."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet

from planning import fiscal
from planning.models import FiscalPeriod, FiscalYear, PlanningSettings, covering
from salesos.roles import role_of
from territories.access import may_see_plan, sees_everything
from territories.models import TerritoryPlan
from territories.selectors import view_grants

Status = TerritoryPlan.Status


def plans_visible_to(user) -> list[TerritoryPlan]:
    """The plans ``user`` may open (``territories.access.may_see_plan``: every plan for admins and
    directors, the active one for everyone else), each with ``territory_count``, the number of
    its territories the user sees (``plan.is_active`` is the model's). One query."""
    if role_of(user) is None:
        return []
    if sees_everything(user):
        counted = Count("territories")
    else:
        counted = Count("territories", filter=Q(territories__in=view_grants(user)))
    plans = TerritoryPlan.objects.select_related("fiscal_year").annotate(
        territory_count=counted
    )
    return [plan for plan in plans.order_by("-effective_date", "name") if may_see_plan(user, plan)]


def fiscal_years_with_quarters(*, today: dt.date) -> QuerySet[FiscalYear]:
    """Fiscal years, newest first, each with its ``quarters``; years and quarters carry
    ``is_current``: ``today`` falls in them (``planning.models.covering``). Two queries."""
    quarters = (
        FiscalPeriod.objects.filter(kind=FiscalPeriod.Kind.QUARTER)
        .annotate(is_current=_holds(covering(today)))
        .order_by("start_date")
    )
    return (
        FiscalYear.objects.annotate(is_current=_holds(covering(today)))
        .prefetch_related(Prefetch("periods", queryset=quarters, to_attr="quarters"))
        .order_by("-start_date")
    )


def _holds(condition: Q) -> ExpressionWrapper:
    return ExpressionWrapper(condition, output_field=BooleanField())


@dataclass(frozen=True)
class FiscalYearRow:
    year: FiscalYear
    quarters: list[FiscalPeriod]
    months: list[FiscalPeriod]
    is_current: bool
    complete: bool  # has its four quarters and twelve months
    fillable: bool  # twelve whole months, so the missing periods can be made


@dataclass(frozen=True)
class FiscalCalendar:
    settings: PlanningSettings
    years: list[FiscalYearRow]
    next_end_year: int  # what "add a year" proposes
    next_span: tuple[dt.date, dt.date]


def fiscal_calendar(*, today: dt.date) -> FiscalCalendar:
    """The fiscal settings and every fiscal year (newest first) with its quarters and months, for
    the fiscal settings page. Three queries."""
    settings = PlanningSettings.load()
    years = list(
        FiscalYear.objects.annotate(is_current=_holds(covering(today)))
        .prefetch_related(Prefetch("periods", queryset=FiscalPeriod.objects.order_by("start_date", "kind")))
        .order_by("-start_date")
    )
    rows = []
    for year in years:
        periods = list(year.periods.all())
        quarters = [p for p in periods if p.kind == FiscalPeriod.Kind.QUARTER]
        months = [p for p in periods if p.kind == FiscalPeriod.Kind.MONTH]
        whole = fiscal.is_whole_months(year.start_date, year.end_date)
        rows.append(FiscalYearRow(year, quarters, months, year.is_current,  # type: ignore[attr-defined]
                                  complete=len(quarters) == 4 and len(months) == 12, fillable=whole))
    if years:
        next_end = max(y.end_date for y in years).year + 1
    else:
        start_month = settings.fiscal_year_start_month
        next_end = today.year + (1 if start_month > 1 and today.month >= start_month else 0)
    return FiscalCalendar(settings, rows, next_end,
                          fiscal.year_span(end_year=next_end, start_month=settings.fiscal_year_start_month))
