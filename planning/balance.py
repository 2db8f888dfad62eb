"""Rebalancing, pure (no Django): dataclasses in, suggestions out.

The problem: territories with a workload each (one or more metrics, e.g. workload and TAM) and the
accounts behind it. Move as little as possible so every territory ends within ``tolerance`` of the
average on every chosen metric, moving only accounts that may move (never named or locked ones)
and only between adjacent territories (``adjacent``: the same parent, or bordering geography).

The solver is HiGHS (through highspy): a linear programme over *blocks* (the movable accounts of a
territory grouped by where they sit, e.g. their postal code, and cut to at most ``block_size``
accounts). ``x[b, j]`` is the share of block ``b`` that moves to territory ``j`` next to it; every
territory's load after the moves must sit in the band on every metric; the objective is the
workload moved. Slack variables with a large cost keep it feasible when the band cannot be met
(the result then says how far off it stays). The fractional shares are turned into whole
accounts block by block, and a short repair pass moves single accounts for whatever rounding left
outside the band. A greedy baseline (largest excess first) runs on the same input for comparison.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

INNER = 0.95  # the LP band, as a share of the tolerance: room for rounding to whole accounts


@dataclass(frozen=True)
class AccountIn:
    id: int
    territory_id: int
    values: tuple[float, ...]  # one per metric, in ``Problem.metrics`` order; the first is the workload
    pipeline: float = 0.0
    movable: bool = True  # False for named and locked accounts
    block: str = ""  # where it sits (postal code, city): accounts of a block move together where they can


@dataclass(frozen=True)
class TerritoryIn:
    id: int
    code: str
    parent_id: int | None = None
    owner: str = ""


@dataclass(frozen=True)
class Problem:
    territories: Sequence[TerritoryIn]
    accounts: Sequence[AccountIn]
    adjacent: Mapping[int, frozenset[int]]  # territory -> territories it may exchange accounts with
    metrics: tuple[str, ...] = ("workload",)
    tolerance: float = 0.05  # share of the average each territory may deviate, on every metric
    block_size: int = 25


@dataclass
class Suggestion:
    """Move these accounts from one territory to an adjacent one."""

    from_id: int
    to_id: int
    account_ids: list[int]
    moved: tuple[float, ...]  # per metric
    pipeline: float


@dataclass
class Result:
    suggestions: list[Suggestion]
    before: dict[int, tuple[float, ...]]  # territory -> load per metric
    after: dict[int, tuple[float, ...]]
    targets: tuple[float, ...]  # the average per metric
    max_deviation_pct_before: float
    max_deviation_pct: float  # after, over every metric
    moved_workload: float
    lower_bound: float
    seconds: float
    status: str
    moves: dict[int, tuple[int, int]] = field(default_factory=dict)  # account -> (from, to)

    @property
    def moved_accounts(self) -> int:
        return len(self.moves)

    @property
    def moved_pipeline(self) -> float:
        return sum(s.pipeline for s in self.suggestions)


def adjacency_from(
    territories: Sequence[TerritoryIn], *, borders: Iterable[tuple[int, int]] = ()
) -> dict[int, frozenset[int]]:
    """Territories are adjacent when they share a parent or a border (``borders``: pairs of
    territory ids whose geography touches)."""
    by_parent: dict[int | None, list[int]] = defaultdict(list)
    for t in territories:
        by_parent[t.parent_id].append(t.id)
    near: dict[int, set[int]] = {t.id: set() for t in territories}
    for siblings in by_parent.values():
        for a in siblings:
            near[a].update(s for s in siblings if s != a)
    for a, b in borders:
        if a != b and a in near and b in near:
            near[a].add(b)
            near[b].add(a)
    return {k: frozenset(v) for k, v in near.items()}


def loads(problem: Problem, where: Mapping[int, int] | None = None) -> dict[int, np.ndarray]:
    """Load per territory per metric, with accounts placed as ``where`` says (else where they are)."""
    m = len(problem.metrics)
    result = {t.id: np.zeros(m) for t in problem.territories}
    for a in problem.accounts:
        tid = where.get(a.id, a.territory_id) if where else a.territory_id
        if tid in result:
            result[tid] += np.asarray(a.values, dtype=float)
    return result


def _deviation_pct(load: Mapping[int, np.ndarray], targets: np.ndarray) -> float:
    if not load:
        return 0.0
    worst = 0.0
    for v in load.values():
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(targets > 0, np.abs(v - targets) / targets * 100, 0.0)
        worst = max(worst, float(d.max()))
    return worst


def lower_bound(problem: Problem) -> float:
    """The least workload any solution must move: the sum of every territory's excess above the
    target plus tolerance on the workload (the first metric)."""
    load = loads(problem)
    target = sum(v[0] for v in load.values()) / max(len(load), 1)
    upper = target * (1 + problem.tolerance)
    return float(sum(max(0.0, v[0] - upper) for v in load.values()))


def _blocks(problem: Problem) -> list[list[AccountIn]]:
    groups: dict[tuple[int, str], list[AccountIn]] = defaultdict(list)
    for a in problem.accounts:
        if a.movable:
            groups[(a.territory_id, a.block)].append(a)
    blocks: list[list[AccountIn]] = []
    for key in sorted(groups):
        members = sorted(groups[key], key=lambda a: (-a.values[0], a.id))
        # Deal the accounts round-robin into chunks so every chunk has a like mix of sizes.
        n = max(1, -(-len(members) // problem.block_size))
        for i in range(n):
            blocks.append(members[i::n])
    return blocks


def solve(problem: Problem, *, time_limit: float = 50.0) -> Result:
    """The optimiser's suggestions (see the module note)."""
    started = time.perf_counter()
    tids = [t.id for t in problem.territories]
    index = {tid: i for i, tid in enumerate(tids)}
    m = len(problem.metrics)
    before = loads(problem)
    targets = np.sum(list(before.values()), axis=0) / max(len(tids), 1) if tids else np.zeros(m)
    blocks = _blocks(problem)
    # A little inside the band, so turning shares into whole accounts stays within it.
    inner = problem.tolerance * INNER
    cols_cost, starts, rows_idx, vals, col_info = [], [0], [], [], []
    n_block_rows = len(blocks)
    for b, members in enumerate(blocks):
        home = members[0].territory_id
        v = np.sum([a.values for a in members], axis=0)
        for j in sorted(problem.adjacent.get(home, ())):
            if j not in index:
                continue
            cols_cost.append(float(v[0]))
            rows_idx.append(b)
            vals.append(1.0)
            for k in range(m):
                if v[k]:
                    base = n_block_rows + k * len(tids)
                    rows_idx.extend([base + index[home], base + index[j]])
                    vals.extend([-float(v[k]), float(v[k])])
            starts.append(len(rows_idx))
            col_info.append((b, j))
    n_x = len(cols_cost)
    # Slack per (metric, territory) row, below and above the band: a unit of it costs a thousand
    # times moving the same share of the average in workload, so it is used only when it must be.
    for k in range(m):
        cost = 1e3 * (float(targets[0]) / float(targets[k]) if targets[k] and targets[0] else 1.0)
        for i in range(len(tids)):
            row = n_block_rows + k * len(tids) + i
            for sign in (1.0, -1.0):
                cols_cost.append(cost)
                rows_idx.append(row)
                vals.append(sign)
                starts.append(len(rows_idx))
    row_lower = [-highspy.kHighsInf] * n_block_rows
    row_upper = [1.0] * n_block_rows
    for k in range(m):
        for tid in tids:
            row_lower.append(float(targets[k] * (1 - inner) - before[tid][k]))
            row_upper.append(float(targets[k] * (1 + inner) - before[tid][k]))
    status = "balanced"
    shares = np.zeros(n_x)
    if n_x and tids:
        lp = highspy.HighsLp()
        lp.num_col_ = len(cols_cost)
        lp.num_row_ = len(row_lower)
        lp.col_cost_ = np.asarray(cols_cost, dtype=float)
        lp.col_lower_ = np.zeros(len(cols_cost))
        lp.col_upper_ = np.concatenate([np.ones(n_x), np.full(len(cols_cost) - n_x, highspy.kHighsInf)])
        lp.row_lower_ = np.asarray(row_lower, dtype=float)
        lp.row_upper_ = np.asarray(row_upper, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray(rows_idx, dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray(vals, dtype=float)
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", float(time_limit))
        h.passModel(lp)
        h.run()
        if h.getModelStatus() == highspy.HighsModelStatus.kOptimal:
            shares = np.asarray(h.getSolution().col_value[:n_x])
        else:
            status = f"solver: {h.modelStatusToString(h.getModelStatus())}"
    where = _round(blocks, col_info, shares)
    where = _repair(problem, where, targets, max_steps=2000)
    return _result(problem, where, before, targets, started, status)


def _round(blocks: list[list[AccountIn]], col_info: list[tuple[int, int]], shares: np.ndarray) -> dict[int, int]:
    """Whole accounts for the LP's shares: each block's accounts (largest first) go to the
    destination whose share of the block's workload they bring closest to."""
    wanted: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for (b, j), s in zip(col_info, shares, strict=True):
        if s > 1e-7:
            wanted[b].append((j, float(s)))
    where: dict[int, int] = {}
    for b, dests in wanted.items():
        members = blocks[b]
        total = sum(a.values[0] for a in members)
        remaining = {j: s * total for j, s in dests}
        for a in members:
            j = max(remaining, key=lambda d: remaining[d])
            if remaining[j] >= a.values[0] / 2:
                where[a.id] = j
                remaining[j] -= a.values[0]
    return where


def _repair(problem: Problem, where: dict[int, int], targets: np.ndarray, *, max_steps: int) -> dict[int, int]:
    """Single-account moves between adjacent territories for what rounding left outside the band
    (workload first), each the account that best closes the gap without opening another."""
    load = loads(problem, where)
    hi, lo = targets * (1 + problem.tolerance), targets * (1 - problem.tolerance)
    by_territory: dict[int, list[AccountIn]] = defaultdict(list)
    for a in problem.accounts:
        if a.movable:
            by_territory[where.get(a.id, a.territory_id)].append(a)
    for _ in range(max_steps):
        over = [(float(np.max((v - hi) / np.where(targets > 0, targets, 1))), t) for t, v in load.items()]
        under = [(float(np.max((lo - v) / np.where(targets > 0, targets, 1))), t) for t, v in load.items()]
        worst_over, src = max(over) if over else (0.0, None)
        worst_under, dst_need = max(under) if under else (0.0, None)
        if max(worst_over, worst_under) <= 1e-9:
            break
        moved = False
        if worst_over >= worst_under and src is not None:
            pairs = [(src, j) for j in problem.adjacent.get(src, ())]
        elif dst_need is not None:
            pairs = [(j, dst_need) for j in problem.adjacent.get(dst_need, ())]
        else:
            break
        best = None
        for s, d in pairs:
            if d not in load or s not in load:
                continue
            for a in by_territory.get(s, ()):
                if d != a.territory_id and d not in problem.adjacent.get(a.territory_id, ()):
                    continue  # an account moves once, to a neighbour of its own territory (or back)
                v = np.asarray(a.values)
                new_s, new_d = load[s] - v, load[d] + v
                # Accept a move that keeps both ends inside the band on every metric where they were.
                bad = np.any(new_d > hi + 1e-9) or np.any(new_s < lo - 1e-9)
                if bad:
                    continue
                gain = float(v[0])
                if best is None or gain > best[0]:
                    best = (gain, a, s, d)
        if best is not None:
            _, a, s, d = best
            where[a.id] = d
            load[s] -= np.asarray(a.values)
            load[d] += np.asarray(a.values)
            by_territory[s].remove(a)
            by_territory[d].append(a)
            moved = True
        if not moved:
            break
    # An account moved back home is no move.
    home = {a.id: a.territory_id for a in problem.accounts}
    return {aid: t for aid, t in where.items() if home.get(aid) != t}


def _result(problem: Problem, where: dict[int, int], before: dict[int, np.ndarray], targets: np.ndarray,
            started: float, status: str) -> Result:
    after = loads(problem, where)
    by_id = {a.id: a for a in problem.accounts}
    groups: dict[tuple[int, int], list[AccountIn]] = defaultdict(list)
    moves = {}
    for aid, to in where.items():
        a = by_id[aid]
        groups[(a.territory_id, to)].append(a)
        moves[aid] = (a.territory_id, to)
    suggestions = [
        Suggestion(f, t, [a.id for a in accs], tuple(float(x) for x in np.sum([a.values for a in accs], axis=0)),
                   float(sum(a.pipeline for a in accs)))
        for (f, t), accs in sorted(groups.items(), key=lambda kv: -sum(a.values[0] for a in kv[1]))
    ]
    dev = _deviation_pct(after, targets)
    if status == "balanced" and dev > problem.tolerance * 100 + 1e-6:
        status = "partly balanced: the band cannot be met with the accounts that may move between neighbours"
    return Result(
        suggestions=suggestions,
        before={t: tuple(float(x) for x in v) for t, v in before.items()},
        after={t: tuple(float(x) for x in v) for t, v in after.items()},
        targets=tuple(float(x) for x in targets),
        max_deviation_pct_before=_deviation_pct(before, targets),
        max_deviation_pct=dev,
        moved_workload=float(sum(by_id[aid].values[0] for aid in where)),
        lower_bound=lower_bound(problem),
        seconds=time.perf_counter() - started,
        status=status,
        moves=moves,
    )


def greedy(problem: Problem, *, max_steps: int = 200_000) -> Result:
    """The baseline: over and over, the territory furthest above the band gives its largest
    account that fits to its least-loaded neighbour, until nothing is above the band or nothing fits."""
    started = time.perf_counter()
    before = loads(problem)
    tids = list(before)
    targets = np.sum(list(before.values()), axis=0) / max(len(tids), 1) if tids else np.zeros(len(problem.metrics))
    hi = targets[0] * (1 + problem.tolerance)
    load = {t: float(v[0]) for t, v in before.items()}
    pool: dict[int, list[AccountIn]] = defaultdict(list)
    for a in problem.accounts:
        if a.movable:
            pool[a.territory_id].append(a)
    for accs in pool.values():
        accs.sort(key=lambda a: a.values[0])
    where: dict[int, int] = {}
    blocked: set[int] = set()
    for _ in range(max_steps):
        candidates = [t for t in tids if load[t] > hi and t not in blocked]
        if not candidates:
            break
        src = max(candidates, key=lambda t: load[t])
        near = [j for j in problem.adjacent.get(src, ()) if j in load]
        if not near or not pool[src]:
            blocked.add(src)
            continue
        dst = min(near, key=lambda t: load[t])
        room = hi - load[dst]
        excess = load[src] - hi
        accs = pool[src]
        # The largest account not above what the neighbour can take (and not more than needed plus one).
        pick = None
        for i in range(len(accs) - 1, -1, -1):
            if accs[i].values[0] <= room:
                pick = i
                break
        if pick is None or room <= 0:
            blocked.add(src)
            continue
        a = accs.pop(pick)
        where[a.id] = dst
        load[src] -= a.values[0]
        load[dst] += a.values[0]
        if excess <= 0:
            break
    return _result(problem, where, before, targets, started, "greedy")
