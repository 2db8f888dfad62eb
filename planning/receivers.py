"""What planning answers when ``territories`` asks (``territories.hooks``), connected in
``PlanningConfig.ready``: a territory with quotas is retired, never erased; the tree's quota
column is the plan's fiscal year's quotas; a changed plan's simulations go stale."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from planning.models import FiscalYear, Quota, covering
from planning.simulation.bench import measure_simulate
from planning.simulation.services import simulations_mark_stale
from routing.bench.extras import plan_measured
from territories import hooks
from territories.models import TerritoryPlan


def has_quotas(*, territory_ids: Sequence[int], **_: Any) -> bool:
    return Quota.objects.filter(territory_id__in=territory_ids).exists()


def fiscal_year_of(plan: TerritoryPlan) -> FiscalYear | None:
    """The plan's fiscal year, or the one today falls in (``covering``)."""
    if plan.fiscal_year_id is not None:
        return plan.fiscal_year
    return FiscalYear.objects.filter(covering(timezone.localdate())).first()


def quotas_of_plan(
    *, plan: TerritoryPlan, territory_ids: set[int] | None = None, **_: Any
) -> tuple[FiscalYear | None, dict[int, Decimal]]:
    fiscal_year = fiscal_year_of(plan)
    if fiscal_year is None:
        return None, {}
    rows = Quota.objects.filter(territory__plan=plan, period__fiscal_year=fiscal_year)
    if territory_ids is not None:
        rows = rows.filter(territory_id__in=territory_ids)
    quota = dict(
        rows.order_by()
        .values_list("territory_id")
        .annotate(total=Sum("amount"))
    )
    return fiscal_year, quota


def simulations_stale(*, plan_id: int, **_: Any) -> int:
    return simulations_mark_stale(plan_id=plan_id)


def connect() -> None:
    hooks.territory_records.connect(has_quotas, dispatch_uid="planning.has_quotas")
    hooks.plan_quotas.connect(quotas_of_plan, dispatch_uid="planning.quotas_of_plan")
    hooks.plan_changed.connect(simulations_stale, dispatch_uid="planning.simulations_stale")
    plan_measured.connect(measure_simulate, dispatch_uid="planning.measure_simulate")
