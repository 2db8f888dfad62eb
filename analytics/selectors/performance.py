"""Performance by territory for a fiscal period (SEED "Performance Metrics"), each territory's
figures including its (visible) subtree.

Deals count for the territory they were booked in (``Opportunity.territory``), so a deal won last
quarter stays with the territory that won it after a re-route. Accounts and activities count for
the account's current primary territory (``territories.placement``). Quotas are the effective amounts
(after ramp) of the period's quotas in the subtree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.utils import timezone

from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import Node, Scope
from analytics.selectors.stored import Freshness, stored_or_live
from planning.models import Quota
from salesos.models import Activity, Opportunity
from territories.models import AccountTerritory

ZERO = Decimal(0)

# How each figure is computed: shown on the page under the table, and in the CSV header notes.
DEFINITIONS = {
    "quota": "Sum of the period's quotas in the territory and the part of its subtree you see, after ramp "
             "(amount x ramp factor).",
    "attainment": "Won amount / quota. Won deals: status won, close date inside the period, booked in the "
                  "territory or below it.",
    "win_rate": "Deals won / (deals won + deals lost), both closed inside the period.",
    "avg_deal": "Won amount / deals won.",
    "cycle": "Average days from a won deal's creation to its close.",
    "velocity": "Open deals due to close in the period x win rate x average deal size / sales cycle: the "
                "expected revenue per day.",
    "activity": "Calls, emails and meetings logged during the period on the territory's current accounts, "
                "per account.",
}

SUMS = ("won_n", "won_amount", "lost_n", "cycle_days", "open_n", "open_amount", "quota", "accounts", "calls",
        "emails", "meetings")


@dataclass
class Figures:
    """Summed figures of a territory's subtree, and the metrics derived from them."""

    node: Node
    won_n: int = 0
    won_amount: Decimal = ZERO
    lost_n: int = 0
    cycle_days: int = 0
    open_n: int = 0
    open_amount: Decimal = ZERO
    quota: Decimal = ZERO
    accounts: int = 0
    calls: int = 0
    emails: int = 0
    meetings: int = 0
    has_children: bool = False

    @property
    def attainment(self) -> float | None:
        return float(self.won_amount / self.quota * 100) if self.quota else None

    @property
    def win_rate(self) -> float | None:
        closed = self.won_n + self.lost_n
        return 100 * self.won_n / closed if closed else None

    @property
    def avg_deal(self) -> Decimal | None:
        return (self.won_amount / self.won_n).quantize(Decimal("0.01")) if self.won_n else None

    @property
    def cycle(self) -> float | None:
        return self.cycle_days / self.won_n if self.won_n else None

    @property
    def velocity(self) -> Decimal | None:
        """Expected revenue per day from the open deals due in the period."""
        if not self.won_n or not self.cycle or self.win_rate is None or self.avg_deal is None:
            return None
        value = self.open_n * (self.win_rate / 100) * float(self.avg_deal) / self.cycle
        return Decimal(str(round(value, 2)))

    @property
    def activities(self) -> int:
        return self.calls + self.emails + self.meetings

    @property
    def activity_density(self) -> float | None:
        return self.activities / self.accounts if self.accounts else None

    def per_account(self, kind: str) -> float | None:
        return getattr(self, kind) / self.accounts if self.accounts else None


@dataclass
class PerformancePage:
    choice: PeriodChoice
    focus: Figures | None  # the chosen territory (None: the tops of the user's part)
    rows: list[Figures]  # its children (or the tops)
    crumbs: list[Node] = field(default_factory=list)
    definitions: dict[str, str] = field(default_factory=lambda: DEFINITIONS)
    freshness: Freshness = field(default_factory=Freshness)


def own_figures(*, scope: Scope, start: dt.date, end: dt.date, period_id: int) -> dict[int, dict]:
    """Each visible territory's own figures (not rolled up) for the dates: four queries."""
    plan = scope.plan
    own: dict[int, dict] = {pk: {} for pk in scope.nodes}
    if plan is None or not own:
        return own
    in_plan = Q(territory__plan=plan)
    closed_in = Q(close_date__gte=start, close_date__lte=end)
    won, lost, is_open = Q(status=Opportunity.Status.WON), Q(status=Opportunity.Status.LOST), Q(
        status=Opportunity.Status.OPEN)
    cycle = ExpressionWrapper(F("close_date") - F("created_date"), output_field=DurationField())
    deals = (
        Opportunity.objects.filter(in_plan, closed_in)
        .order_by()
        .values("territory_id")
        .annotate(
            won_n=Count("pk", filter=won),
            won_amount=Sum("amount", filter=won),
            lost_n=Count("pk", filter=lost),
            cycle=Sum(cycle, filter=won),
            open_n=Count("pk", filter=is_open),
            open_amount=Sum("amount", filter=is_open),
        )
    )
    for row in deals:
        figures = own.get(row["territory_id"])
        if figures is None:
            continue
        figures.update(
            won_n=row["won_n"], won_amount=row["won_amount"] or ZERO, lost_n=row["lost_n"],
            cycle_days=_days(row["cycle"]), open_n=row["open_n"], open_amount=row["open_amount"] or ZERO,
        )
    for territory_id, amount, ramp in Quota.objects.filter(period_id=period_id, territory__plan=plan).values_list(
        "territory_id", "amount", "ramp_factor"
    ):
        if territory_id in own:
            quota = Quota(amount=amount, ramp_factor=ramp).effective_amount
            own[territory_id]["quota"] = own[territory_id].get("quota", ZERO) + quota
    current = AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True)
    for territory_id, n in current.order_by().values("territory_id").annotate(n=Count("pk")).values_list(
        "territory_id", "n"
    ):
        if territory_id in own:
            own[territory_id]["accounts"] = n
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    kinds = Activity.Kind
    activities = (
        # One filter() call: the three conditions hold for the same routing row.
        Activity.objects.filter(
            at__gte=since, at__lt=until, account__territory_rows__plan=plan,
            account__territory_rows__is_primary=True, account__territory_rows__valid_to__isnull=True,
        )
        .order_by()
        .values("account__territory_rows__territory_id")
        .annotate(
            calls=Count("pk", filter=Q(kind=kinds.CALL)),
            emails=Count("pk", filter=Q(kind=kinds.EMAIL)),
            meetings=Count("pk", filter=Q(kind=kinds.MEETING)),
        )
    )
    for counts in activities:
        found = own.get(counts["account__territory_rows__territory_id"])
        if found is not None:
            found.update(calls=counts["calls"], emails=counts["emails"], meetings=counts["meetings"])
    return own


def _days(value) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.timedelta):
        return value.days
    return int(value) // 86_400_000_000  # SQLite sums durations as microseconds


def rolled_up(*, scope: Scope, choice: PeriodChoice) -> dict[int, Figures]:
    """Every visible territory's figures with its visible subtree summed in, computed live."""
    if choice.period is None or choice.start is None or choice.end is None:
        return {pk: Figures(node=node) for pk, node in scope.nodes.items()}
    return _figures(scope, _live_own(scope=scope, choice=choice))


def rolled_up_stored(*, scope: Scope, choice: PeriodChoice) -> tuple[dict[int, Figures], Freshness]:
    """As ``rolled_up``, from the territories' stored own figures when the store has them
    (``analytics.selectors.stored``), with their age."""
    if choice.period is None or choice.start is None or choice.end is None:
        return {pk: Figures(node=node) for pk, node in scope.nodes.items()}, Freshness()
    own, freshness = stored_or_live(scope=scope, choice=choice, keys=SUMS, live=_live_own)
    return _figures(scope, own), freshness


def _live_own(*, scope: Scope, choice: PeriodChoice) -> dict[int, dict]:
    assert choice.period is not None and choice.start is not None and choice.end is not None
    return own_figures(scope=scope, start=choice.start, end=choice.end, period_id=choice.period.pk)


def _figures(scope: Scope, own: dict[int, dict]) -> dict[int, Figures]:
    totals = scope.rollup(own)
    return {
        pk: Figures(node=scope.nodes[pk], has_children=bool(scope.children.get(pk)), **totals.get(pk, {}))  # type: ignore[arg-type]
        for pk in scope.nodes
    }


def performance_page(*, scope: Scope, choice: PeriodChoice, territory_id: int | None) -> PerformancePage:
    """The chosen territory (one the user sees; None for the tops of their part) with its
    children, each with its subtree's figures."""
    figures, freshness = rolled_up_stored(scope=scope, choice=choice)
    if territory_id is None or territory_id not in scope.nodes:
        return PerformancePage(choice=choice, focus=None, rows=[figures[n.pk] for n in scope.child_nodes(None)],
                               freshness=freshness)
    return PerformancePage(
        choice=choice,
        focus=figures[territory_id],
        rows=[figures[n.pk] for n in scope.child_nodes(territory_id)],
        crumbs=scope.ancestors(territory_id),
        freshness=freshness,
    )
