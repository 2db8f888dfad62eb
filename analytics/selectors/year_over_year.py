"""This fiscal year against the last, territory by territory (SEED "Fiscal Period Planning":
mid-year adjustments): accounts, won revenue, pipeline and attainment, and how much of the
change in accounts came from mid-year changes.

Each year is read on its own plan (the plan made for that fiscal year, else the active plan), and
territories are matched across the two plans by code. The figures are the performance page's
(``rolled_up``), summed over the year's quarters; accounts are the primary rows in force at the
end of the year's last day (today while it runs: ``territories.placement.in_force_rows``). The
mid-year part is what the executed proposals dated inside the year moved in and out of each
territory (their frozen moves), as far as the user may see those proposals; the rest of the
change ("other") is routing of new, edited or deleted accounts and the plan's own changes.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from analytics.selectors.performance import SUMS, Figures, rolled_up
from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import Scope, scope_for
from planning.models import FiscalPeriod, FiscalYear, ReassignmentMove, covering
from planning.reassignments.selectors import mid_year_changes
from territories.models import TerritoryPlan
from territories.placement import in_force_rows

ZERO = Decimal(0)


@dataclass
class YearFigures:
    """One territory's figures for one fiscal year (its visible subtree summed in)."""

    accounts: int = 0
    won_amount: Decimal = ZERO
    quota: Decimal = ZERO
    open_amount: Decimal = ZERO

    @property
    def attainment(self) -> float | None:
        return float(self.won_amount / self.quota * 100) if self.quota else None


@dataclass
class Row:
    code: str
    name: str
    this: YearFigures | None  # None: the territory is not in this year's plan
    last: YearFigures | None  # None: it was not in last year's plan
    moved_in: int = 0
    moved_out: int = 0
    top: bool = False  # no listed parent: the totals add these up

    @property
    def accounts_change(self) -> int:
        return (self.this.accounts if self.this else 0) - (self.last.accounts if self.last else 0)

    @property
    def mid_year(self) -> int:
        """Net accounts the year's executed proposals moved into the territory."""
        return self.moved_in - self.moved_out

    @property
    def other(self) -> int:
        return self.accounts_change - self.mid_year

    @property
    def won_change(self) -> Decimal:
        return (self.this.won_amount if self.this else ZERO) - (self.last.won_amount if self.last else ZERO)

    @property
    def attainment_change(self) -> float | None:
        now = self.this.attainment if self.this else None
        before = self.last.attainment if self.last else None
        return now - before if now is not None and before is not None else None


@dataclass
class YearOverYear:
    year: FiscalYear | None
    prior: FiscalYear | None
    years: list[FiscalYear]
    plan: TerritoryPlan | None = None
    prior_plan: TerritoryPlan | None = None
    rows: list[Row] = field(default_factory=list)
    changes: int = 0  # executed proposals inside the year the user sees
    moved_accounts: int = 0  # the accounts those proposals moved from or to a territory the user sees
    error: str = ""

    @property
    def totals(self) -> Row:
        """The sum of the top rows (territories whose parent is not listed)."""
        total = Row(code="", name="All territories", this=YearFigures(), last=YearFigures())
        for row in self.rows:
            if not row.top:
                continue
            for side, figures in (("this", row.this), ("last", row.last)):
                if figures is None:
                    continue
                target = getattr(total, side)
                target.accounts += figures.accounts
                target.won_amount += figures.won_amount
                target.quota += figures.quota
                target.open_amount += figures.open_amount
            total.moved_in += row.moved_in
            total.moved_out += row.moved_out
        return total


def choose_year(raw: str | None, today: dt.date | None = None) -> tuple[FiscalYear | None, list[FiscalYear], str]:
    """The fiscal year named by ``raw`` (an id), else the one covering today, else the latest."""
    years = list(FiscalYear.objects.order_by("start_date"))
    if raw:
        try:
            found = next((y for y in years if y.pk == int(raw)), None)
        except ValueError:
            found = None
        if found is not None:
            return found, years, ""
        error = "That fiscal year does not exist; showing the current one."
    else:
        error = ""
    today = today or timezone.localdate()
    current = FiscalYear.objects.filter(covering(today)).first()
    return current or (years[-1] if years else None), years, error


def plan_for(year: FiscalYear) -> TerritoryPlan | None:
    """The plan a fiscal year ran on: the active or archived plan made for it, else the active plan."""
    made = (TerritoryPlan.objects.filter(fiscal_year=year, status__in=("active", "archived"))
            .order_by("status", "-pk").first())  # "active" sorts before "archived"
    return made or TerritoryPlan.active()


def _year_figures(scope: Scope, year: FiscalYear, on: dt.date) -> dict[str, YearFigures]:
    """Per territory code, the year's figures: the quarters' performance figures summed, the
    accounts in force on ``on``."""
    sums: dict[int, dict[str, Decimal | int]] = {pk: {} for pk in scope.nodes}
    quarters = FiscalPeriod.objects.filter(fiscal_year=year, kind=FiscalPeriod.Kind.QUARTER).order_by("start_date")
    for quarter in quarters:
        figures: dict[int, Figures] = rolled_up(scope=scope, choice=PeriodChoice(quarter, []))
        for pk, f in figures.items():
            for key in SUMS:
                sums[pk][key] = sums[pk].get(key, 0) + getattr(f, key)
    placed: Counter[int] = Counter()
    if scope.plan is not None:
        own = (in_force_rows(scope.plan, on).filter(is_primary=True, territory_id__in=scope.ids).order_by()
               .values("territory_id").annotate(n=Count("pk")).values_list("territory_id", "n"))
        placed.update(dict(own))
    accounts = scope.rollup({pk: {"n": placed[pk]} for pk in scope.nodes})
    out = {}
    for pk, node in scope.nodes.items():
        out[node.code] = YearFigures(
            accounts=int(accounts.get(pk, {}).get("n", 0)), won_amount=Decimal(sums[pk].get("won_amount", 0)),
            quota=Decimal(sums[pk].get("quota", 0)), open_amount=Decimal(sums[pk].get("open_amount", 0)),
        )
    return out


def year_over_year(user, raw_year: str | None = None, today: dt.date | None = None) -> YearOverYear:
    today = today or timezone.localdate()
    year, years, error = choose_year(raw_year, today)
    result = YearOverYear(year=year, prior=None, years=years, error=error)
    if year is None:
        return result
    result.prior = FiscalYear.objects.filter(start_date__lt=year.start_date).order_by("-start_date").first()
    result.plan = plan_for(year)
    this_scope = scope_for(user, result.plan) if result.plan is not None else Scope(plan=None)
    this = _year_figures(this_scope, year, min(year.end_date, today))
    last: dict[str, YearFigures] = {}
    last_scope = Scope(plan=None)
    if result.prior is not None:
        result.prior_plan = plan_for(result.prior)
        if result.prior_plan is not None:
            last_scope = scope_for(user, result.prior_plan)
            last = _year_figures(last_scope, result.prior, min(result.prior.end_date, today))
    names = {n.code: n.name for n in last_scope.nodes.values()} | {n.code: n.name for n in this_scope.nodes.values()}
    tops = {this_scope.nodes[pk].code for pk in this_scope.roots()} | {
        last_scope.nodes[pk].code for pk in last_scope.roots()}
    moved_in, moved_out, result.moved_accounts = _mid_year_moves(user, result.plan, year, this_scope)
    result.changes = mid_year_changes(result.plan, user, year.start_date, year.end_date).count() if result.plan else 0
    for code in sorted(names):
        result.rows.append(Row(code=code, name=names[code], this=this.get(code), last=last.get(code),
                               moved_in=moved_in[code], moved_out=moved_out[code], top=code in tops))
    return result


def _mid_year_moves(user, plan: TerritoryPlan | None, year: FiscalYear, scope: Scope) -> tuple[Counter, Counter, int]:
    """Accounts moved into and out of each territory (by code, its visible ancestors included) by
    the executed proposals dated inside the year that the user sees, and how many moves touched a
    territory the user sees."""
    moved_in: Counter[str] = Counter()
    moved_out: Counter[str] = Counter()
    touched = 0
    if plan is None:
        return moved_in, moved_out, touched
    proposals = mid_year_changes(plan, user, year.start_date, year.end_date)
    moves = (ReassignmentMove.objects.filter(reassignment__in=proposals.values("pk")).order_by()
             .values("from_territory_id", "to_territory_id").annotate(n=Count("pk")))
    for move in moves:
        source = set(_with_ancestors(scope, move["from_territory_id"]))
        target = set(_with_ancestors(scope, move["to_territory_id"]))
        touched += move["n"] if source or target else 0
        for code in target - source:  # a move inside a subtree does not change the subtree's count
            moved_in[code] += move["n"]
        for code in source - target:
            moved_out[code] += move["n"]
    return moved_in, moved_out, touched


def _with_ancestors(scope: Scope, pk: int | None) -> list[str]:
    if pk is None or pk not in scope.nodes:
        return []
    return [scope.nodes[pk].code] + [n.code for n in scope.ancestors(pk)]
