"""Reads for the rebalancing page: the active plan's territories the user plans and their
accounts, turned into a ``planning.balance.Problem`` (workload and TAM per account, named and
locked accounts fixed, adjacency by parent and by bordering states), and the solved suggestions
with names for the page."""

from __future__ import annotations

import gzip
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.db.models import Sum
from shapely.geometry import shape
from shapely.strtree import STRtree

from planning import balance
from planning.capacity import capacity_scope
from planning.quota_page import planned_by
from salesos.models import Opportunity
from territories import coverage
from territories.models import Territory, TerritoryPlan
from territories.placement import current_primary_rows

STATES = Path(__file__).resolve().parent.parent / "salesos" / "data" / "us_states.geojson.gz"
METRIC_LABELS = {"workload": "Workload", "tam": "TAM"}
# A territory's geography for adjacency: the states holding at least this share of its accounts.
STATE_SHARE = 0.2


@cache
def bordering_states() -> frozenset[tuple[str, str]]:
    """Pairs of US state codes whose shipped shapes touch (both orders)."""
    with gzip.open(STATES, "rt") as fh:
        features = json.load(fh)["features"]
    codes = [f["properties"]["code"] for f in features]
    shapes = [shape(f["geometry"]).buffer(0.01) for f in features]
    tree = STRtree(shapes)
    pairs: set[tuple[str, str]] = set()
    for i, geom in enumerate(shapes):
        for j in tree.query(geom, predicate="intersects"):
            if i != int(j):
                pairs.add((codes[i], codes[int(j)]))
    return frozenset(pairs)


def _borders(states_of: dict[int, set[str]]) -> list[tuple[int, int]]:
    touching = bordering_states()
    by_state: dict[str, list[int]] = defaultdict(list)
    for tid, states in states_of.items():
        for s in states:
            by_state[s].append(tid)
    pairs = set()
    for s, tids in by_state.items():
        near = tids + [t for (a, b) in touching if a == s for t in by_state.get(b, [])]
        for a in tids:
            for b in near:
                if a != b:
                    pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


@dataclass
class Loaded:
    problem: balance.Problem
    territories: dict[int, Territory]
    owners: dict[int, str]


def load_problem(*, user, plan: TerritoryPlan, metrics: tuple[str, ...], tolerance: float) -> Loaded:
    """The balancing problem over the territories ``user`` plans in ``plan`` (a few queries and one
    pass over their accounts). An account's workload is 1 plus its open pipeline over the average
    account's, so accounts and pipeline weigh alike; TAM is its potential."""
    # Named-account territories hold only fixed accounts: they are not part of the balance.
    candidates = {t.pk: t for t in capacity_scope(user, plan).exclude(type=Territory.Type.NAMED_ACCOUNT)}
    rows = list(current_primary_rows(plan).filter(territory_id__in=list(candidates)).values_list(
        "account_id", "territory_id", "account__potential", "account__state", "account__postal_code",
        "account__territory_lock__territory_id"))
    ids = [r[0] for r in rows]
    pipeline = dict(Opportunity.objects.filter(account_id__in=ids, status=Opportunity.Status.OPEN).order_by()
                    .values_list("account_id").annotate(total=Sum("amount")))
    named = set(Territory.named_accounts.through.objects.filter(
        territory__plan=plan, account_id__in=ids).values_list("account_id", flat=True))
    mean_pipe = (sum(float(v) for v in pipeline.values()) / len(rows)) if rows else 0.0
    # Leaves always; a parent only when accounts sit in it directly (as in the capacity planner).
    leaves = set(planned_by(user, plan).values_list("pk", flat=True))
    holding = {r[1] for r in rows}
    scope = {pk: t for pk, t in candidates.items() if pk in leaves or pk in holding}
    accounts = []
    states: dict[int, Counter] = defaultdict(Counter)
    for aid, tid, potential, state, postal, locked in rows:
        pipe = float(pipeline.get(aid) or 0)
        work = 1.0 + (pipe / mean_pipe if mean_pipe else 0.0)
        values = {"workload": work, "tam": float(potential or 0)}
        accounts.append(balance.AccountIn(aid, tid, tuple(values[m] for m in metrics), pipe,
                                          movable=aid not in named and locked is None, block=postal or state or ""))
        if state:
            states[tid][state] += 1
    terrs = [balance.TerritoryIn(t.pk, t.code, t.parent_id) for t in scope.values()]
    states_of = {tid: {s for s, n in c.items() if n >= STATE_SHARE * sum(c.values())} for tid, c in states.items()}
    adjacent = balance.adjacency_from(terrs, borders=_borders(states_of))
    owners = {tid: (u.get_full_name() or u.username) for tid, u in coverage.owners_of(list(scope)).items()}
    return Loaded(balance.Problem(terrs, accounts, adjacent, metrics=metrics, tolerance=tolerance), scope, owners)


@dataclass
class SuggestionRow:
    suggestion: balance.Suggestion
    source: Territory
    target: Territory
    loser: str
    gainer: str
    source_before: float
    source_after: float
    target_before: float
    target_after: float


@dataclass
class Rebalance:
    loaded: Loaded
    result: balance.Result
    rows: list[SuggestionRow]


def rebalance_run(*, user, plan: TerritoryPlan, metrics: tuple[str, ...], tolerance: float) -> Rebalance:
    loaded = load_problem(user=user, plan=plan, metrics=metrics, tolerance=tolerance)
    result = balance.solve(loaded.problem)
    t, o = loaded.territories, loaded.owners
    rows = [
        SuggestionRow(s, t[s.from_id], t[s.to_id], o.get(s.from_id, "vacant"), o.get(s.to_id, "vacant"),
                      result.before[s.from_id][0], result.after[s.from_id][0],
                      result.before[s.to_id][0], result.after[s.to_id][0])
        for s in result.suggestions
    ]
    return Rebalance(loaded, result, rows)
