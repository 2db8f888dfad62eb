"""Comparative analytics and coaching (SEED "Comparative Analytics"; coaching from territory
performance): territories side by side for a period, and the territories and reps below their
peers' median on a metric.

Peers are the territories compared (2 to 8 picked, or all at one level of the tree, optionally
of one type). A rep's figures are the sum of the compared territories they hold as primary today
(``territories.coverage``); reps are compared with the other reps of the comparison.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Sum

from analytics.selectors.performance import SUMS, Figures, rolled_up_stored
from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import Node, Scope
from analytics.selectors.stored import Freshness, stored_or_live
from territories.coverage import owners_on
from territories.models import AccountTerritory, Territory
from territories.selectors import display_name

User = get_user_model()
MIN_PICK, MAX_PICK = 2, 8

# metric key, label, how to read it, higher is better
METRICS: list[tuple[str, str, Callable[[Figures], float | None], bool]] = [
    ("attainment", "Quota attainment", lambda f: f.attainment, True),
    ("win_rate", "Win rate", lambda f: f.win_rate, True),
    ("avg_deal", "Average deal size", lambda f: float(f.avg_deal) if f.avg_deal is not None else None, True),
    ("cycle", "Sales cycle (days)", lambda f: f.cycle, False),
    ("activity", "Activities per account", lambda f: f.activity_density, True),
]


@dataclass
class Flag:
    metric: str
    value: float
    median: float


@dataclass
class Coached:
    label: str
    figures: Figures
    flags: list[Flag]


@dataclass
class Comparison:
    choice: PeriodChoice
    rows: list[Figures] = field(default_factory=list)
    tam: dict[int, Decimal] = field(default_factory=dict)
    territories: list[Coached] = field(default_factory=list)
    reps: list[Coached] = field(default_factory=list)
    medians: dict[str, float | None] = field(default_factory=dict)
    error: str = ""
    level: int | None = None
    type: str = ""
    levels: list[int] = field(default_factory=list)
    options: list[Node] = field(default_factory=list)
    freshness: Freshness = field(default_factory=Freshness)

    @property
    def table(self) -> list[tuple[Figures, Decimal]]:
        """Each compared territory with its TAM, for the table."""
        return [(f, self.tam.get(f.node.pk, Decimal(0))) for f in self.rows]


def _flags(items: list[tuple[str, Figures]]) -> tuple[list[Coached], dict[str, float | None]]:
    medians: dict[str, float | None] = {}
    flagged: dict[str, list[Flag]] = {label: [] for label, _ in items}
    for _key, label, read, higher in METRICS:
        values = [v for v in (read(f) for _, f in items) if v is not None]
        median = statistics.median(values) if len(values) >= 2 else None
        medians[label] = median
        if median is None:
            continue
        for name, f in items:
            v = read(f)
            if v is not None and (v < median if higher else v > median):
                flagged[name].append(Flag(metric=label, value=v, median=median))
    coached = [Coached(label=name, figures=f, flags=flagged[name]) for name, f in items if flagged[name]]
    coached.sort(key=lambda c: (-len(c.flags), c.label))
    return coached, medians


def comparison(*, scope: Scope, choice: PeriodChoice, picked: list[int], level: int | None,
               type_: str) -> Comparison:
    result = Comparison(choice=choice, level=level, type=type_)
    result.levels = sorted({scope.depth(pk) for pk in scope.nodes})
    result.options = sorted(scope.nodes.values(), key=lambda n: n.code)
    if type_ and type_ not in Territory.Type.values:
        result.error, type_ = "Pick a territory type from the list.", ""
    if picked:
        if not MIN_PICK <= len(set(picked)) <= MAX_PICK:
            result.error = f"Pick {MIN_PICK} to {MAX_PICK} territories to compare."
            return result
        if any(pk not in scope.nodes for pk in picked):
            result.error = "Pick territories from the list."
            return result
        chosen = list(dict.fromkeys(picked))
    else:
        result.level = level = level if level in result.levels else (result.levels[0] if result.levels else None)
        chosen = [pk for pk in scope.nodes if scope.depth(pk) == level and (not type_ or scope.nodes[pk].type == type_)]
        chosen.sort(key=lambda pk: scope.nodes[pk].code)
    figures, result.freshness = rolled_up_stored(scope=scope, choice=choice)
    result.rows = [figures[pk] for pk in chosen]
    result.tam = _tam(scope, choice, chosen)
    result.territories, result.medians = _flags([(f.node.label, f) for f in result.rows])
    result.reps, _ = _flags(_rep_figures(result.rows))
    return result


def tam_own(*, scope: Scope, choice: PeriodChoice | None = None) -> dict[int, dict]:
    """Each territory's own TAM: the potential of the accounts it holds as primary today (one
    query). The period plays no part; the argument keeps the shape of the other figures."""
    if scope.plan is None or not scope.nodes:
        return {}
    return {
        territory_id: {"tam": total or Decimal(0)}
        for territory_id, total in AccountTerritory.objects.filter(
            plan=scope.plan, is_primary=True, valid_to__isnull=True,
        ).order_by().values("territory_id").annotate(total=Sum("account__potential")).values_list(
            "territory_id", "total")
        if territory_id in scope.nodes
    }


def _tam(scope: Scope, choice: PeriodChoice, chosen: list[int]) -> dict[int, Decimal]:
    """Potential (TAM) of the accounts in each chosen territory's visible subtree."""
    if scope.plan is None or not chosen:
        return {}
    own, _ = stored_or_live(scope=scope, choice=choice, keys=("tam",), live=tam_own)
    totals = scope.rollup(own)
    return {pk: Decimal(totals.get(pk, {}).get("tam", 0)) for pk in chosen}


def _rep_figures(rows: list[Figures]) -> list[tuple[str, Figures]]:
    """Each primary owner today of the compared territories, with their territories' sums."""
    held = owners_on(territory_ids=[f.node.pk for f in rows])
    by_rep: dict[int, Figures] = {}
    for f in rows:
        owner = held.get(f.node.pk)
        if owner is None or owner.primary is None:
            continue
        total = by_rep.setdefault(owner.primary, Figures(node=f.node))
        for key in SUMS:
            setattr(total, key, getattr(total, key) + getattr(f, key))
    names = {
        pk: display_name(first, last, username)
        for pk, first, last, username in User.objects.filter(pk__in=by_rep).values_list(
            "pk", "first_name", "last_name", "username")
    }
    return sorted(((names.get(pk, "?"), f) for pk, f in by_rep.items()), key=lambda item: item[0])
