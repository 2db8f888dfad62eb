"""What planning answers when ``territories`` asks (``territories.hooks``), connected in
``PlanningConfig.ready``: a territory with quotas is retired, never erased; the tree's quota
column is the plan's fiscal year's quotas; a changed plan's simulations go stale; a rule edit on
the active plan that would move
accounts becomes a reassignment proposal (managers and directors always, admins when
``ReassignmentSettings.admin_rule_edits`` says so)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from planning.models import FiscalPeriod, FiscalYear, Quota, Reassignment, ReassignmentSettings, covering
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.impact import moves_of
from planning.reassignments.services import reassignment_propose
from planning.simulation.bench import measure_simulate
from planning.simulation.services import simulations_mark_stale
from routing.bench.extras import plan_measured
from salesos.roles import is_admin
from territories import hooks
from territories.models import Territory, TerritoryPlan


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
    # The year's quota is its quarters' (its months split the same amounts again).
    rows = Quota.objects.filter(territory__plan=plan, period__fiscal_year=fiscal_year,
                                period__kind=FiscalPeriod.Kind.QUARTER)
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
def rule_edit_to_proposal(*, territory: Territory, rule: dict, priority: int | None, by: Any,
                          **_: Any) -> hooks.RuleEditTaken | None:
    """A rule (or priority) edit of an active territory on the active plan: when it would move
    accounts (the same dry run a proposal's impact runs, ``impact.moves_of``) and the editor is a
    manager or director, or an admin whose organisation asks admins to propose too, it becomes a
    draft proposal effective today instead of applying."""
    if is_admin(by) and ReassignmentSettings.load().admin_rule_edits == ReassignmentSettings.AdminEdits.APPLY:
        return None
    change: dict[str, Any] = {"territory": territory.pk, "rule": rule}
    if priority is not None and priority != territory.priority:
        change["priority"] = priority
    today = timezone.localdate()
    tentative = Reassignment(plan=territory.plan, kind=Reassignment.Kind.RULE_CHANGE, change=change,
                             initiator=by, effective_date=today)
    moving = len(moves_of(tentative)[0])
    if moving == 0:
        return None
    try:
        proposal = reassignment_propose(
            by=by, plan=territory.plan, kind=Reassignment.Kind.RULE_CHANGE, change=change,
            title=f"Rule change on {territory.code} {territory.name}"[:200],
            reason="Proposed from the territory editor: the new rule moves accounts on the active plan.",
            effective_date=today)
    except ReassignmentError as exc:
        return hooks.RuleEditTaken(errors=tuple(t for texts in exc.messages.values() for t in texts))
    return hooks.RuleEditTaken(
        url=reverse("planning:proposal", args=[proposal.pk]),
        message=f"The new rule would move {moving:,} account{'s' if moving != 1 else ''} on the active plan, so it "
                "became a draft proposal (nothing moved yet): check its impact and submit it for approval. The "
                "territory's other changes are saved.")


def connect() -> None:
    hooks.territory_records.connect(has_quotas, dispatch_uid="planning.has_quotas")
    hooks.plan_quotas.connect(quotas_of_plan, dispatch_uid="planning.quotas_of_plan")
    hooks.plan_changed.connect(simulations_stale, dispatch_uid="planning.simulations_stale")
    plan_measured.connect(measure_simulate, dispatch_uid="planning.measure_simulate")
    hooks.rule_edit_proposed.connect(rule_edit_to_proposal, dispatch_uid="planning.rule_edit_to_proposal")
