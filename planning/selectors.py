"""Reads for the planning pages: the territory plans and the fiscal calendar."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from planning.models import FiscalPeriod, FiscalYear
from salesos.roles import role_of
from territories.access import may_see_plan, sees_everything
from territories.models import TerritoryPlan
from territories.selectors import view_grants

Status = TerritoryPlan.Status


def plans_visible_to(user) -> list[TerritoryPlan]:
    """The plans ``user`` may open (``territories.access.may_see_plan``: every plan for admins and
    directors, the active one for everyone else), each with ``territory_count``, the number of
    its territories the user sees. One query."""
    if role_of(user) is None:
        return []
    if sees_everything(user):
        counted = Count("territories")
    else:
        counted = Count("territories", filter=Q(territories__in=view_grants(user)))
    plans = TerritoryPlan.objects.select_related("fiscal_year").annotate(territory_count=counted)
    return [plan for plan in plans.order_by("-effective_date", "name") if may_see_plan(user, plan)]


def fiscal_years_with_quarters() -> QuerySet[FiscalYear]:
    quarters = FiscalPeriod.objects.filter(kind=FiscalPeriod.Kind.QUARTER).order_by("start_date")
    return FiscalYear.objects.prefetch_related(Prefetch("periods", queryset=quarters, to_attr="quarters")).order_by(
        "-start_date"
    )
