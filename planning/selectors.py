"""Reads for the planning pages: the territory plans and the fiscal calendar."""

from __future__ import annotations

from django.db.models import Count, Prefetch, QuerySet

from planning.models import FiscalPeriod, FiscalYear
from salesos.models import SalesProfile
from salesos.roles import role_of
from territories.models import TerritoryPlan

Status = TerritoryPlan.Status
# SEED "Staging": plans in the making stay invisible to reps until activation.
REP_VISIBLE_STATUSES = [Status.ACTIVE, Status.ARCHIVED]


def plans_visible_to(user) -> QuerySet[TerritoryPlan]:
    plans = TerritoryPlan.objects.select_related("fiscal_year").annotate(territory_count=Count("territories"))
    if role_of(user) in (SalesProfile.Role.ADMIN, SalesProfile.Role.DIRECTOR, SalesProfile.Role.MANAGER):
        return plans.order_by("-effective_date", "name")
    return plans.filter(status__in=REP_VISIBLE_STATUSES).order_by("-effective_date", "name")


def fiscal_years_with_quarters() -> QuerySet[FiscalYear]:
    quarters = FiscalPeriod.objects.filter(kind=FiscalPeriod.Kind.QUARTER).order_by("start_date")
    return FiscalYear.objects.prefetch_related(Prefetch("periods", queryset=quarters, to_attr="quarters")).order_by(
        "-start_date"
    )
