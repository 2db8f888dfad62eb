"""Reads for the quota planning page of a fiscal year: the plan it uses, the territories the
user plans (quota-bearing leaves), the metrics the blend reads, the holders and their ramp per
quarter, saved quotas, and the tree the quotas roll up in. A bounded number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, QuerySet, Sum
from django.utils import timezone

from planning import quotas
from planning.figures import territory_figures
from planning.models import FiscalPeriod, FiscalYear, Quota
from salesos.models import Opportunity, SalesProfile
from salesos.roles import Role, is_admin, opens_any_plan
from territories import coverage
from territories.access import territories_editable_by
from territories.models import Territory, TerritoryPlan
from territories.selectors import territories_visible_to

# Capacity factors of the blend's "rep capacity" metric: a steady-state figure by experience and
# role. Ramp is not in it: a ramping holder's quota is reduced per period through Quota.ramp_factor
# (SalesProfile.ramp_factor), so ramp counts once.
EXPERIENCE_FACTOR = {"junior": 0.7, "mid": 1.0, "senior": 1.2, "principal": 1.4}
ROLE_FACTOR = {Role.REP: 1.0, Role.MANAGER: 0.5, Role.DIRECTOR: 0.25, Role.ADMIN: 0.25}
STATUS_ORDER = [TerritoryPlan.Status.ACTIVE, TerritoryPlan.Status.STAGED, TerritoryPlan.Status.REVIEW,
                TerritoryPlan.Status.DRAFT, TerritoryPlan.Status.ARCHIVED]


def plan_for_year(year: FiscalYear) -> TerritoryPlan | None:
    """The plan whose territories carry ``year``'s quotas: the year's own plan (active first, then
    staged, in review, draft, archived; newest first), else the active plan."""
    plans = list(TerritoryPlan.objects.filter(fiscal_year=year).order_by("-created_at"))
    if plans:
        return min(plans, key=lambda p: STATUS_ORDER.index(p.status))  # type: ignore[arg-type]
    return TerritoryPlan.active()


def quota_leaves(plan: TerritoryPlan) -> QuerySet[Territory]:
    """The territories that carry quota: active, not overlays, without an active non-overlay child."""
    child = Territory.objects.filter(parent=OuterRef("pk"), status=Territory.Status.ACTIVE, is_overlay=False)
    return Territory.objects.filter(plan=plan, status=Territory.Status.ACTIVE, is_overlay=False).filter(~Exists(child))


def planned_by(user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """The quota-bearing territories ``user`` plans: admins all, directors those in the subtrees they
    lead or held by their team (``territories_editable_by``), everyone else none."""
    if plan is None or not opens_any_plan(user):
        return Territory.objects.none()
    leaves = quota_leaves(plan)
    if is_admin(user):
        return leaves
    return leaves.filter(pk__in=territories_editable_by(user, plan).values("pk"))


def may_plan(user) -> bool:
    return opens_any_plan(user)


@dataclass
class Holder:
    user_id: int | None
    name: str
    profile: SalesProfile | None

    def ramp_on(self, day: dt.date) -> Decimal:
        """The holder's ramp factor on ``day`` (0 before the hire date; 1 with no holder)."""
        if self.profile is None:
            return Decimal("1.000")
        if day < self.profile.hire_date:
            return Decimal("0.000")
        return Decimal(str(round(self.profile.ramp_factor(on=day), 3)))


@dataclass
class LeafInfo:
    territory: Territory
    metrics: quotas.Metrics
    holders: list[Holder]  # per quarter
    ramp: list[Decimal]  # per quarter
    saved: list[Decimal | None]  # saved full amount per quarter
    saved_ramp: list[Decimal | None]


@dataclass
class QuotaInputs:
    year: FiscalYear
    plan: TerritoryPlan | None
    quarters: list[FiscalPeriod]
    leaves: list[LeafInfo]
    nodes: list[Territory]  # every shown territory (leaves and their visible ancestors), tree order
    parent_of: dict[int, int | None]  # shown territory -> nearest shown ancestor
    depth: dict[int, int] = field(default_factory=dict)
    history_note: str = ""

    @property
    def saved_total(self) -> Decimal:
        return sum((a for leaf in self.leaves for a in leaf.saved if a is not None), Decimal(0))


def _holders(leaf_ids: list[int], days: list[dt.date]) -> list[dict[int, Holder]]:
    owners = [coverage.owners_on(territory_ids=leaf_ids, on=day) for day in days]
    user_ids = {o.primary for per in owners for o in per.values() if o.primary is not None}
    profiles = {p.user_id: p for p in SalesProfile.objects.filter(user_id__in=user_ids).select_related("user")}
    result = []
    for per in owners:
        held: dict[int, Holder] = {}
        for tid in leaf_ids:
            primary = per[tid].primary if tid in per else None
            profile = profiles.get(primary) if primary is not None else None
            name = (profile.user.get_full_name() or profile.user.username) if profile is not None else ""
            held[tid] = Holder(primary, name, profile)
        result.append(held)
    return result


def capacity_factor(profile: SalesProfile | None) -> float:
    if profile is None:
        return 1.0  # vacant: planned for a hire at the usual capacity
    return EXPERIENCE_FACTOR.get(profile.experience, 1.0) * ROLE_FACTOR.get(profile.role, 1.0)  # type: ignore[call-overload]


def _attainment(leaf_ids: list[int], *, before: dt.date) -> tuple[dict[int, float], str]:
    """Won over quota (after ramp) per territory over the latest four quarters that ended before
    ``before`` and carry quotas for these territories."""
    periods = list(
        FiscalPeriod.objects.filter(kind=FiscalPeriod.Kind.QUARTER, end_date__lt=before,
                                    quotas__territory_id__in=leaf_ids)
        .select_related("fiscal_year").distinct().order_by("-end_date")[:4]
    )
    if not periods:
        return {}, "No quarter with quotas has ended yet, so attainment has no history to go on."
    quota = dict(
        Quota.objects.filter(period__in=periods, territory_id__in=leaf_ids).order_by().values_list("territory_id")
        .annotate(total=Sum(F("amount") * F("ramp_factor")))
    )
    start, end = min(p.start_date for p in periods), max(p.end_date for p in periods)
    won = dict(
        Opportunity.objects.filter(
            account__territory_rows__territory_id__in=leaf_ids, account__territory_rows__is_primary=True,
            account__territory_rows__valid_to__isnull=True, status=Opportunity.Status.WON,
            close_date__gte=start, close_date__lte=end,
        ).order_by().values_list("account__territory_rows__territory_id").annotate(total=Sum("amount"))
    )
    result = {tid: float(Decimal(won.get(tid) or 0) / Decimal(q)) for tid, q in quota.items() if q}
    label = ", ".join(f"{p.fiscal_year.name} {p.name}" for p in reversed(periods))
    return result, f"Attainment is won deals over quota in {label}."


def quota_inputs(*, user, year: FiscalYear, today: dt.date | None = None) -> QuotaInputs:
    today = today or timezone.localdate()
    plan = plan_for_year(year)
    quarters = list(year.periods.filter(kind=FiscalPeriod.Kind.QUARTER).order_by("start_date"))
    leaves = list(planned_by(user, plan).order_by("code"))
    inputs = QuotaInputs(year=year, plan=plan, quarters=quarters, leaves=[], nodes=[], parent_of={})
    if plan is None or not leaves:
        return inputs
    ids = [t.pk for t in leaves]
    figures = territory_figures(ids)
    # History is what ended before the year began (or before today, planning ahead): never the
    # planned year's own quarters, so saving quotas does not feed back into the next spread.
    attainment, inputs.history_note = _attainment(ids, before=min(today, year.start_date))
    reference = min(max(year.start_date, today), year.end_date)
    held_now = _holders(ids, [reference])[0]
    per_quarter = _holders(ids, [q.start_date for q in quarters])
    saved = {(tid, pid): (amount, ramp) for tid, pid, amount, ramp in Quota.objects.filter(
        territory_id__in=ids, period__in=quarters).values_list("territory_id", "period_id", "amount", "ramp_factor")}
    for t in leaves:
        fig = figures.get(t.pk)
        now = held_now[t.pk]
        metrics = quotas.Metrics(
            territory_id=t.pk, tam=fig.tam if fig else Decimal(0), attainment=attainment.get(t.pk),
            density=fig.accounts if fig else 0, pipeline=fig.pipeline if fig else Decimal(0),
            capacity=capacity_factor(now.profile),
        )
        # The quarter's primary at its start; where there was none (yet), the holder the year is
        # planned for (the primary on the reference day), so a new hire's early quarters ramp from zero.
        holders = [per_quarter[i][t.pk] if per_quarter[i][t.pk].user_id is not None else now
                   for i in range(len(quarters))]
        ramp = [h.ramp_on(q.start_date + (q.end_date - q.start_date) / 2)
                for h, q in zip(holders, quarters, strict=True)]
        got = [saved.get((t.pk, q.pk)) for q in quarters]
        inputs.leaves.append(LeafInfo(t, metrics, holders, ramp, [g[0] if g else None for g in got],
                                      [g[1] if g else None for g in got]))
    _tree(inputs, user=user, plan=plan)
    return inputs


def _tree(inputs: QuotaInputs, *, user, plan: TerritoryPlan) -> None:
    """The leaves with their ancestors the user may see, depth-first by code; each shown node's
    parent is its nearest shown ancestor."""
    all_nodes = {t.pk: t for t in Territory.objects.filter(plan=plan).only("pk", "parent_id", "code", "name", "type")}
    visible = set(territories_visible_to(user, plan).values_list("pk", flat=True))
    shown: set[int] = set()
    for leaf in inputs.leaves:
        node: int | None = leaf.territory.pk
        while node is not None and node in all_nodes:
            if node in visible or node == leaf.territory.pk:
                shown.add(node)
            node = all_nodes[node].parent_id
    parent_of: dict[int, int | None] = {}
    for pk in shown:
        up = all_nodes[pk].parent_id
        while up is not None and up not in shown:
            up = all_nodes[up].parent_id if up in all_nodes else None
        parent_of[pk] = up
    children: dict[int | None, list[int]] = {}
    for pk, up in parent_of.items():
        children.setdefault(up, []).append(pk)
    order: list[Territory] = []

    def walk(parent: int | None, depth: int) -> None:
        for pk in sorted(children.get(parent, []), key=lambda p: all_nodes[p].code):
            order.append(all_nodes[pk])
            inputs.depth[pk] = depth
            walk(pk, depth + 1)

    walk(None, 0)
    inputs.nodes, inputs.parent_of = order, parent_of


@dataclass
class QuotaRow:
    territory: Territory
    depth: int
    is_leaf: bool
    metrics: quotas.Metrics
    share: float | None  # blended share (None: overridden, or a roll-up row)
    amount: Decimal
    per_quarter: list[Decimal]
    ramp: list[Decimal]
    effective: Decimal
    holder: str
    overridden: bool
    override_value: str = ""

    @property
    def coverage(self) -> float | None:
        return float(self.metrics.pipeline / self.amount) if self.amount else None

    @property
    def share_pct(self) -> float | None:
        return self.share * 100 if self.share is not None else None

    @property
    def attainment_pct(self) -> float | None:
        return self.metrics.attainment * 100 if self.metrics.attainment is not None else None

    @property
    def ramping(self) -> bool:
        return any(r < 1 for r in self.ramp)


@dataclass
class QuotaTable:
    rows: list[QuotaRow]
    total: Decimal
    effective_total: Decimal
    per_quarter_total: list[Decimal]
    used: dict[str, int]
    dropped: list[str]


def quota_table(inputs: QuotaInputs, spread: quotas.Spread, overrides: Mapping[int, Decimal]) -> QuotaTable:
    """The page's rows: every leaf with its metrics, blended share, annual quota, its quarters and
    ramp; every ancestor with the sums of its leaves. Everything adds up to the cent."""
    n = len(inputs.quarters)
    leaf_rows: dict[int, QuotaRow] = {}
    for leaf in inputs.leaves:
        tid = leaf.territory.pk
        amount = spread.amounts[tid]
        parts = quotas.split(amount, n) if n else []
        effective = sum(((p * r).quantize(quotas.CENT) for p, r in zip(parts, leaf.ramp, strict=True)), Decimal(0))
        holder = next((h.name for h in leaf.holders if h.name), "")
        share = spread.shares.get(tid)
        leaf_rows[tid] = QuotaRow(leaf.territory, inputs.depth.get(tid, 0), True, leaf.metrics,
                                  float(share) if share is not None and tid not in overrides else None,
                                  amount, parts, leaf.ramp, effective, holder, tid in overrides,
                                  f"{overrides[tid]:.2f}" if tid in overrides else "")
    totals = quotas.roll_up({t: r.amount for t, r in leaf_rows.items()}, inputs.parent_of)
    under: dict[int, list[QuotaRow]] = {}  # ancestor -> the leaf rows below it
    for tid, row in leaf_rows.items():
        node = inputs.parent_of.get(tid)
        while node is not None:
            under.setdefault(node, []).append(row)
            node = inputs.parent_of.get(node)
    rows = []
    for node in inputs.nodes:
        if node.pk in leaf_rows:
            rows.append(leaf_rows[node.pk])
            continue
        below = under.get(node.pk, [])
        metrics = quotas.Metrics(
            territory_id=node.pk,
            tam=sum((r.metrics.tam for r in below), Decimal(0)),
            density=sum(r.metrics.density for r in below),
            pipeline=sum((r.metrics.pipeline for r in below), Decimal(0)),
            capacity=sum(r.metrics.capacity for r in below),
        )
        per_q = [sum((r.per_quarter[i] for r in below), Decimal(0)) for i in range(n)]
        rows.append(QuotaRow(node, inputs.depth.get(node.pk, 0), False, metrics, None, totals[node.pk], per_q, [],
                             sum((r.effective for r in below), Decimal(0)), "", False))
    leaves = list(leaf_rows.values())
    return QuotaTable(
        rows=rows, total=sum((r.amount for r in leaves), Decimal(0)),
        effective_total=sum((r.effective for r in leaves), Decimal(0)),
        per_quarter_total=[sum((r.per_quarter[i] for r in leaves), Decimal(0)) for i in range(n)],
        used=spread.used, dropped=spread.dropped,
    )


def quota_preview(
    inputs: QuotaInputs, *, target: Decimal | None, weights: Mapping[str, int], overrides: Mapping[int, Decimal]
) -> QuotaTable:
    """The table for a target (or, without one, the metrics and blended shares with zero quotas);
    raises ``quotas.QuotaError`` for input that cannot add up."""
    rows = [leaf.metrics for leaf in inputs.leaves]
    if target is None:
        shares, used, dropped = quotas.blend(rows, weights)
        spread = quotas.Spread({r.territory_id: Decimal(0) for r in rows}, shares, used, dropped)
        return quota_table(inputs, spread, {})
    return quota_table(inputs, quotas.spread(target=target, rows=rows, weights=weights, overrides=overrides), overrides)


def quota_export_rows(*, user, year: FiscalYear) -> QuerySet[Quota]:
    """The saved quotas of ``year`` on the territories ``user`` plans, for the CSV export."""
    plan = plan_for_year(year)
    return (
        Quota.objects.filter(period__fiscal_year=year, territory__in=planned_by(user, plan))
        .select_related("territory", "territory__parent", "period", "user")
        .order_by("territory__code", "period__start_date")
    )


