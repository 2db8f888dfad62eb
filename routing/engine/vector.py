"""Set-based routing: the engine's decisions for many records at once, column by column.

``resolve`` decides one record in tens of microseconds; a re-route of a million accounts cannot
afford a million of those. Here every territory's rule is evaluated over arrays of record values
(numpy) and the winners are picked with the order ``resolve`` uses: a territory matches when its
rule and every ancestor's do (named lists by their list alone), the deepest match wins, then tier,
priority, specificity and the lowest code (a tie reported as a conflict); overlays add credit rows.
Tests hold it to ``resolve`` record by record on random plans and records.

* Input, ``Columns``: the records' ids and locks, and for each field the rules read, text as codes
  into a table of distinct raw values (-1 when missing) and numbers as scaled integers (cents for
  money) with a presence mask, so comparisons are exact.
* Work: a territory is evaluated only on the records its parent matched, or, when its rule names
  values of a text field (a *guard*, ``index.rule_guards``) that few records hold, on the records
  holding them (a group index per field), so a plan of ten thousand territories costs about what
  one pass over the records costs, not ten thousand.
* Output, ``Routed``: per record the winner (0 when none), its source, the conflict flag, the
  overlay credit rows, and a key naming the set of territories that matched. ``Routed.matched``
  lists each key's territories: with the lock that is all ``decide_matched`` needs to give the
  decision and its trace back, so a re-route stores one small decision per key, not a trace per
  record. Records with a lock are decided by ``decide_matched`` itself (matching does not depend
  on the lock), so lock handling is the engine's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .columns import EMPTY, Columns, NumberColumn, TextColumn, money_scale
from .index import PlanIndex, rule_guards
from .masks import Mask, rule_mask
from .plan import LOCK, NAMED, RULE, TIER_NAMED
from .resolve import decide_matched

# Columns and masks live in their own modules; they are named here too, where routing uses them.
__all__ = [
    "SOURCES", "Columns", "Mask", "NumberColumn", "Routed", "TextColumn", "VectorPlan", "rule_mask",
    "fields_read", "for_plan", "money_scale", "route",
]

SOURCES = (None, RULE, NAMED, LOCK)  # Routed.source codes
_SOURCE_CODE = {s: i for i, s in enumerate(SOURCES)}


def fields_read(plan: PlanIndex) -> set[str]:
    """The fields some rule of the plan reads."""
    found: set[str] = set()

    def walk(node: Mapping[str, Any]) -> None:
        for kind in ("all", "any"):
            if kind in node:
                for member in node[kind]:
                    walk(member)
                return
        if node:
            found.add(node["field"])

    for rule in plan.rules.values():
        walk(rule)
    return found


# --- the plan, prepared once per version --------------------------------------------------------


class _Territory:
    """One routable territory, its rule compiled on first use (a run over a few accounts touches
    few territories, and a plan of ten thousand should not compile them all up front)."""

    __slots__ = ("id", "parent_id", "is_overlay", "credit", "named", "broken", "rule", "hash", "_mask", "_guards")

    def __init__(self, t_id: int, parent_id: int | None, is_overlay: bool, credit: int,
                 named: frozenset[int] | None, broken: bool, rule: Mapping[str, Any]):
        self.id, self.parent_id, self.is_overlay, self.credit = t_id, parent_id, is_overlay, credit
        self.named = np.asarray(sorted(named), dtype=np.int64) if named is not None else None
        self.broken, self.rule = broken, rule
        self.hash = _splitmix(t_id)
        self._mask: Mask | None = None
        self._guards: list[tuple[str, str, tuple[str, ...]]] | None = None

    @property
    def mask(self) -> Mask:
        if self._mask is None:
            self._mask = rule_mask(self.rule)
        return self._mask

    @property
    def guards(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """Alternative guards: (kind, field, folded values), each a union of value groups."""
        if self._guards is None:
            self._guards = []
            for _score, keys in rule_guards(self.rule):
                kinds = {(k, f) for k, f, _ in keys}
                if len(kinds) == 1:  # one field, one kind
                    kind, field_name = next(iter(kinds))
                    self._guards.append((kind, field_name, tuple(sorted(v for _, _, v in keys))))
        return self._guards


# Hash inputs: territory ids as they are, locks and the check hash in their own ranges, so that no
# lock can cancel out a territory (splitmix is a bijection: distinct inputs, distinct outputs).
_LOCK_DOMAIN = 1 << 62
_CHECK_DOMAIN = 1 << 61


def _splitmix(value: int) -> np.uint64:
    z = (value * 0x9E3779B97F4A7C15 + 0xD1B54A32D192ED03) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return np.uint64(z ^ (z >> 31))


class VectorPlan:
    """What set-based routing needs from a compiled plan; build once per plan version
    (``for_plan`` keeps one per compiled plan)."""

    def __init__(self, plan: PlanIndex):
        self.plan = plan
        self.fields = fields_read(plan)
        self.territories: dict[int, _Territory] = {}
        for t_id in plan.order:
            node = plan.nodes[t_id]
            if not node.routable:
                continue
            self.territories[t_id] = _Territory(
                t_id, node.parent_id, node.is_overlay, node.credit_percent, node.named,
                plan.matches_nothing(t_id), plan.rules.get(t_id) or {},
            )
        self.children: dict[int | None, list[int]] = {}
        for t in self.territories.values():
            self.children.setdefault(t.parent_id, []).append(t.id)
        # Resolution order among primary candidates: tier, priority, specificity, then code.
        ranked = sorted(
            (t for t in self.territories.values() if not t.is_overlay),
            key=lambda t: self._rank(t.id) + (plan.nodes[t.id].code,),
        )
        self.ranked = [t.id for t in ranked]
        rank_of = {rank: i for i, rank in enumerate(sorted({self._rank(t) for t in self.ranked}))}
        self.rank_id = {t: rank_of[self._rank(t)] for t in self.ranked}
        self.tier_named = {t for t in self.ranked if plan.nodes[t].tier == TIER_NAMED}

    def warm(self) -> VectorPlan:
        """Compiles every rule now rather than on first use (a worker about to route everyone)."""
        for t in self.territories.values():
            if t.named is None and not t.broken:
                t.mask  # noqa: B018 - compiled on first access
                t.guards  # noqa: B018
        return self

    def _rank(self, t_id: int) -> tuple[int, int, int, int]:
        node = self.plan.nodes[t_id]
        return (node.tier, -node.priority, -node.specificity.geo_level, -node.specificity.conditions)


_plans: dict[int, tuple[PlanIndex, VectorPlan]] = {}


def for_plan(plan: PlanIndex) -> VectorPlan:
    """The vector plan of a compiled plan, built once (compiled plans are cached per version)."""
    found = _plans.get(id(plan))
    if found is None or found[0] is not plan:
        if len(_plans) > 8:
            _plans.clear()
        found = _plans[id(plan)] = (plan, VectorPlan(plan))
    return found[1]


# --- routing -----------------------------------------------------------------------------------


@dataclass
class Routed:
    """Where each record goes (arrays aligned with ``Columns.ids``)."""

    winner: np.ndarray  # territory id, 0 when unassigned
    source: np.ndarray  # index into SOURCES
    conflict: np.ndarray  # bool
    overlay_rows: np.ndarray  # record positions of the overlay credit rows
    overlay_territory: np.ndarray
    overlay_credit: np.ndarray
    key: np.ndarray  # per record: index into matched / locks
    matched: list[tuple[int, ...]]  # per key: the territories that matched, sorted ids
    lock: np.ndarray  # per key: the lock (0 none)


class _Scratch:
    """A reusable boolean array over the records, always left all False."""

    def __init__(self, n: int):
        self.flags = np.zeros(n, dtype=bool)

    def minus(self, rows: np.ndarray, remove: list[np.ndarray]) -> np.ndarray:
        if not remove:
            return rows
        for part in remove:
            self.flags[part] = True
        out = rows[~self.flags[rows]]
        for part in remove:
            self.flags[part] = False
        return out


def route(vplan: VectorPlan, cols: Columns) -> Routed:
    plan = vplan.plan
    n = len(cols)
    all_rows = np.arange(n, dtype=np.int64)
    matched: dict[int, np.ndarray] = {}  # territory -> record positions it matches, ascending
    scratch = _Scratch(n)
    order = np.argsort(cols.ids, kind="stable")
    sorted_ids = cols.ids[order]

    def named_rows(ids: np.ndarray) -> np.ndarray:
        """Positions of the listed ids among the records (ids not being routed are skipped)."""
        at = np.searchsorted(sorted_ids, ids)
        inside = at < n
        at = at[inside]
        return np.sort(order[at[sorted_ids[at] == ids[inside]]])

    def guard_rows(t: _Territory, limit: int) -> np.ndarray | None:
        """Rows a guard allows, if some guard allows fewer than ``limit``."""
        best: np.ndarray | None = None
        for kind, field_name, values in t.guards:
            col = cols.text.get(field_name)
            if col is None:
                continue
            if kind == "x":
                key = 0
                wanted = np.concatenate([col.codes_of(v) for v in values]) if values else EMPTY
            else:
                lengths = {len(v) for v in values}
                if len(lengths) != 1:
                    continue
                key = lengths.pop()
                ids = col.prefix_codes(key)[1]
                wanted = np.asarray([ids[v] for v in values if v in ids], dtype=np.int64)
            order_, starts = col.group(key)
            total = int(sum(starts[w + 2] - starts[w + 1] for w in wanted.tolist()))
            if total >= limit or (best is not None and total >= len(best)):
                continue
            parts = [order_[starts[w + 1] : starts[w + 2]] for w in wanted.tolist()]
            best = np.sort(np.concatenate(parts)) if parts else EMPTY
        return best

    # Territories parent by parent, so the parent's records can be flagged once for its children.
    queue: list[int | None] = [None]
    while queue:
        parent = queue.pop()
        kids = vplan.children.get(parent, ())
        if not kids:
            continue
        base = all_rows if parent is None else matched.get(parent, EMPTY)
        flagged = False
        for t_id in kids:
            t = vplan.territories[t_id]
            queue.append(t_id)
            if t.named is not None:
                matched[t_id] = named_rows(t.named)
                continue
            if t.broken or not base.size:
                matched[t_id] = EMPTY
                continue
            rows = guard_rows(t, len(base) // 4) if len(base) > 4096 and t.guards else None
            if rows is None:
                rows = base
            elif parent is not None:
                if not flagged:
                    scratch.flags[base] = True
                    flagged = True
                rows = rows[scratch.flags[rows]]
            matched[t_id] = rows[t.mask(cols, rows)] if rows.size else EMPTY
        if flagged:
            scratch.flags[base] = False

    # Deepest match: a candidate drops out where a descendant of the same kind (primary or
    # overlay) matched. Children before parents, handing each subtree's matches up.
    below_primary: dict[int, list[np.ndarray]] = {}
    below_overlay: dict[int, list[np.ndarray]] = {}
    effective: dict[int, np.ndarray] = {}
    for t_id in reversed(plan.order):
        found = vplan.territories.get(t_id)
        if found is None:
            continue
        t = found
        rows = matched.get(t_id, EMPTY)
        under_p = below_primary.pop(t_id, [])
        under_o = below_overlay.pop(t_id, [])
        if rows.size:
            effective[t_id] = scratch.minus(rows, under_o if t.is_overlay else under_p)
        if t.parent_id is not None and t.parent_id in vplan.territories:
            up_p = below_primary.setdefault(t.parent_id, [])
            up_o = below_overlay.setdefault(t.parent_id, [])
            up_p.extend(under_p)
            up_o.extend(under_o)
            if rows.size:
                (up_o if t.is_overlay else up_p).append(rows)

    # Winners: territories in resolution order; the first to claim a record wins it, a later one
    # of the same rank means the code decided (a conflict).
    winner = np.zeros(n, dtype=np.int64)
    best = np.full(n, -1, dtype=np.int64)
    conflict = np.zeros(n, dtype=bool)
    source = np.zeros(n, dtype=np.int8)
    for t_id in vplan.ranked:
        rows = effective.get(t_id)
        if rows is None or not rows.size:
            continue
        rank = vplan.rank_id[t_id]
        held = best[rows]
        fresh = rows[held < 0]
        if fresh.size:
            winner[fresh] = t_id
            best[fresh] = rank
            source[fresh] = _SOURCE_CODE[NAMED if t_id in vplan.tier_named else RULE]
        tied = held == rank
        if tied.any():
            conflict[rows[tied]] = True

    overlay_parts = [
        (rows, t_id) for t_id, rows in effective.items() if vplan.territories[t_id].is_overlay and rows.size
    ]
    if overlay_parts:
        overlay_rows = np.concatenate([rows for rows, _ in overlay_parts])
        overlay_territory = np.concatenate([np.full(len(rows), t_id, dtype=np.int64) for rows, t_id in overlay_parts])
        overlay_credit = np.concatenate(
            [np.full(len(rows), vplan.territories[t_id].credit, dtype=np.int64) for rows, t_id in overlay_parts]
        )
    else:
        overlay_rows = overlay_territory = overlay_credit = EMPTY

    # Keys: the set of matching territories (and the lock) hashed per record.
    digest = np.zeros(n, dtype=np.uint64)
    second = np.zeros(n, dtype=np.uint64)  # another hash of the same sets, to catch collisions
    for t_id, rows in matched.items():
        if rows.size:
            digest[rows] ^= vplan.territories[t_id].hash
            second[rows] ^= _splitmix(t_id | _CHECK_DOMAIN)
    locked = cols.locks != 0
    if locked.any():
        lock_hash = np.asarray([_splitmix(int(v) | _LOCK_DOMAIN) for v in cols.locks[locked].tolist()], dtype=np.uint64)
        digest[locked] ^= lock_hash
    _, first, key = np.unique(digest, return_index=True, return_inverse=True)
    key = key.reshape(-1)
    k = len(first)
    rep_of_row = np.full(n, -1, dtype=np.int64)
    rep_of_row[first] = np.arange(k)
    pair_keys, pair_territories = [], []
    for t_id, rows in matched.items():
        if rows.size:
            hit = rep_of_row[rows]
            hit = hit[hit >= 0]
            if hit.size:
                pair_keys.append(hit)
                pair_territories.append(np.full(len(hit), t_id, dtype=np.int64))
    sets: list[tuple[int, ...]] = [()] * k
    if pair_keys:
        keys_flat = np.concatenate(pair_keys)
        territories_flat = np.concatenate(pair_territories)
        by = np.lexsort((territories_flat, keys_flat))
        keys_flat, territories_flat = keys_flat[by], territories_flat[by]
        bounds = [0, *(np.flatnonzero(np.diff(keys_flat)) + 1).tolist(), len(keys_flat)]
        names = territories_flat.tolist()
        owners = keys_flat[bounds[:-1]].tolist()
        for at, start, end in zip(owners, bounds[:-1], bounds[1:], strict=True):
            sets[at] = tuple(names[start:end])
    key_lock = cols.locks[first]
    # Hash collisions (two different sets with one 64-bit digest) would merge keys: check that
    # every record's own set hashes like its key's representative under a second hash.
    if not np.array_equal(second, second[first][key]):
        raise RuntimeError("Routing keys collided; run again")  # 2^-64 per pair of sets

    # Locked records: the engine's own resolution of their matched set with the lock.
    locked_rows = np.flatnonzero(locked)
    if locked_rows.size:
        locked_keys = key[locked_rows]
        for k_id in np.unique(locked_keys).tolist():
            decision = decide_matched(plan, sets[k_id], int(key_lock[k_id]))
            rows = locked_rows[locked_keys == k_id]
            winner[rows] = decision.territory_id or 0
            source[rows] = _SOURCE_CODE[decision.source]
            conflict[rows] = decision.conflict
    return Routed(
        winner=winner,
        source=source,
        conflict=conflict,
        overlay_rows=overlay_rows,
        overlay_territory=overlay_territory,
        overlay_credit=overlay_credit,
        key=key,
        matched=sets,
        lock=key_lock,
    )
