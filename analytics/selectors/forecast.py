"""Forecast roll-up by hierarchy (SEED "Integration with Other Modules": forecasting): for a
fiscal period, the open deals due to close in it, by stage and probability, summed up the tree.

* commit: open deals in Negotiation;
* best case: commit plus deals in Proposal;
* pipeline: every open deal due in the period;
* weighted: the sum of amount x probability over the pipeline;
* closed won: deals already won in the period.
Deals count for the territory they are booked in (``Opportunity.territory``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Q, Sum

from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import Node, Scope
from analytics.selectors.stored import Freshness, stored_or_live
from salesos.models import Opportunity

ZERO = Decimal(0)
Stage = Opportunity.Stage
COMMIT_STAGES = (Stage.NEGOTIATION,)
BEST_CASE_STAGES = (Stage.PROPOSAL, Stage.NEGOTIATION)
DEFINITIONS = {
    "won": "Deals won with a close date in the period.",
    "commit": "Open deals in Negotiation due to close in the period.",
    "best_case": "Commit plus open deals in Proposal due in the period.",
    "pipeline": "Every open deal due to close in the period, whatever its stage.",
    "weighted": "Sum over the pipeline of amount x the deal's probability.",
}


@dataclass
class Forecast:
    node: Node
    won: Decimal = ZERO
    commit: Decimal = ZERO
    best_case: Decimal = ZERO
    pipeline: Decimal = ZERO
    weighted: Decimal = ZERO
    has_children: bool = False


@dataclass
class ForecastPage:
    choice: PeriodChoice
    focus: Forecast | None
    rows: list[Forecast]
    crumbs: list[Node] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=lambda: DEFINITIONS)
    freshness: Freshness = field(default_factory=Freshness)

    @property
    def total(self) -> Forecast | None:
        """The sum of the rows (the tops of the user's part when no territory is chosen)."""
        if self.focus is not None or not self.rows:
            return self.focus
        total = Forecast(node=self.rows[0].node)
        for row in self.rows:
            for key in ("won", "commit", "best_case", "pipeline", "weighted"):
                setattr(total, key, getattr(total, key) + getattr(row, key))
        return total


KEYS = ("won", "commit", "best_case", "pipeline", "weighted")


def forecast_own(*, scope: Scope, choice: PeriodChoice) -> dict[int, dict]:
    """Each territory of ``scope``'s own forecast figures (not rolled up): one query for the deals,
    whatever the number of territories."""
    own: dict[int, dict] = {pk: {} for pk in scope.nodes}
    if scope.plan is not None and choice.period is not None and own:
        money = DecimalField(max_digits=18, decimal_places=2)
        weighted = ExpressionWrapper(F("amount") * F("probability") / 100, output_field=money)
        is_open, won = Q(status=Opportunity.Status.OPEN), Q(status=Opportunity.Status.WON)
        rows = (
            Opportunity.objects.filter(territory__plan=scope.plan, close_date__gte=choice.start,
                                       close_date__lte=choice.end)
            .order_by()
            .values("territory_id")
            .annotate(
                won=Sum("amount", filter=won),
                commit=Sum("amount", filter=is_open & Q(stage__in=COMMIT_STAGES)),
                best_case=Sum("amount", filter=is_open & Q(stage__in=BEST_CASE_STAGES)),
                pipeline=Sum("amount", filter=is_open),
                weighted=Sum(weighted, filter=is_open),
            )
        )
        for row in rows:
            if row["territory_id"] in own:
                own[row["territory_id"]] = {
                    k: Decimal(row[k] or 0) for k in ("won", "commit", "best_case", "pipeline", "weighted")
                }
    return own


def forecast_page(*, scope: Scope, choice: PeriodChoice, territory_id: int | None) -> ForecastPage:
    """The chosen territory (or the tops of the user's part) and its children, each with its
    visible subtree summed in; the territories' own figures from the store when it has them
    (``analytics.selectors.stored``), else computed live."""
    own, freshness = stored_or_live(scope=scope, choice=choice, keys=KEYS, live=forecast_own)
    totals = scope.rollup(own)
    by_pk = {
        pk: Forecast(node=scope.nodes[pk], has_children=bool(scope.children.get(pk)), **totals.get(pk, {}))  # type: ignore[arg-type]
        for pk in scope.nodes
    }
    for f in by_pk.values():
        f.weighted = Decimal(f.weighted).quantize(Decimal("0.01"))
    if territory_id is None or territory_id not in scope.nodes:
        return ForecastPage(choice=choice, focus=None, rows=[by_pk[n.pk] for n in scope.child_nodes(None)],
                            freshness=freshness)
    return ForecastPage(choice=choice, focus=by_pk[territory_id],
                        rows=[by_pk[n.pk] for n in scope.child_nodes(territory_id)],
                        crumbs=scope.ancestors(territory_id), freshness=freshness)
