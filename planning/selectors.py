"""Reads for the planning pages: the territory plans and the fiscal calendar."""

from __future__ import annotations

import datetime as dt

from django.db.models import BooleanField, Count, ExpressionWrapper, Prefetch, Q, QuerySet

from planning.models import FiscalPeriod, FiscalYear, covering
from salesos.roles import role_of
from territories.access import may_see_plan, sees_everything
from territories.models import TerritoryPlan
from territories.selectors import view_grants

Status = TerritoryPlan.Status


def plans_visible_to(user) -> list[TerritoryPlan]:
    """The plans ``user`` may open (``territories.access.may_see_plan``: every plan for admins and
    directors, the active one for everyone else), each with ``territory_count``, the number of
    its territories the user sees, and ``is_active``. One query."""
    if role_of(user) is None:
        return []
    if sees_everything(user):
        counted = Count("territories")
    else:
        counted = Count("territories", filter=Q(territories__in=view_grants(user)))
    plans = TerritoryPlan.objects.select_related("fiscal_year").annotate(
        territory_count=counted, is_active=_holds(Q(status=Status.ACTIVE))
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
