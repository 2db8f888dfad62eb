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

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from .evaluate import _number as engine_number
from .fields import (
    BETWEEN,
    EQ,
    FIELDS,
    GT,
    GTE,
    HIERARCHY,
    IN,
    IS_EMPTY,
    LT,
    LTE,
    MONEY,
    NE,
    NOT_IN,
    NUMBER_TYPES,
    PREFIX,
    fold,
)
from .index import CompiledPlan, rule_guards
from .plan import LOCK, NAMED, RULE, TIER_NAMED
from .resolve import decide_matched

SOURCES = (None, RULE, NAMED, LOCK)  # Routed.source codes
_SOURCE_CODE = {s: i for i, s in enumerate(SOURCES)}
_EMPTY = np.zeros(0, dtype=np.int64)

# --- columns -----------------------------------------------------------------------------------


@dataclass
class TextColumn:
    """One text field: ``codes[i]`` indexes ``values`` (the distinct raw values), -1 missing."""

    codes: np.ndarray
    values: Sequence[str]
    _by_folded: dict[str, np.ndarray] | None = None
    _prefix: dict[int, tuple[np.ndarray, dict[str, int]]] = field(default_factory=dict)
    _groups: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def from_values(cls, raw: Iterable[Any]) -> TextColumn:
        """Codes for raw values (None and "" are missing, as ``prepare`` has it)."""
        index: dict[str, int] = {}
        codes = []
        for value in raw:
            if value is None or value == "":
                codes.append(-1)
                continue
            text = value if isinstance(value, str) else str(value)
            codes.append(index.setdefault(text, len(index)))
        return cls(np.asarray(codes, dtype=np.int64), list(index))

    def codes_of(self, folded: str) -> np.ndarray:
        """Codes of the raw values that fold to ``folded``."""
        if self._by_folded is None:
            groups: dict[str, list[int]] = {}
            for code, value in enumerate(self.values):
                groups.setdefault(fold(value), []).append(code)
            self._by_folded = {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}
        return self._by_folded.get(folded, _EMPTY)

    def prefix_codes(self, length: int) -> tuple[np.ndarray, dict[str, int]]:
        """(per value code: the id of its folded first ``length`` characters, -1 when shorter;
        with one more entry, -1, for missing) and the ids by prefix."""
        found = self._prefix.get(length)
        if found is None:
            ids: dict[str, int] = {}
            table = np.empty(len(self.values) + 1, dtype=np.int64)
            for code, value in enumerate(self.values):
                folded = fold(value)
                table[code] = ids.setdefault(folded[:length], len(ids)) if len(folded) >= length else -1
            table[-1] = -1
            found = self._prefix[length] = (table, ids)
        return found

    def group(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows sorted by value (``key`` 0) or by folded prefix of length ``key``, and where each
        value starts (value v at ``starts[v + 1]``)."""
        found = self._groups.get(key)
        if found is None:
            if key:
                table, ids = self.prefix_codes(key)
                per_row, size = table[self.codes], len(ids)
            else:
                per_row, size = self.codes, len(self.values)
            order = np.argsort(per_row, kind="stable")
            starts = np.zeros(size + 2, dtype=np.int64)
            np.cumsum(np.bincount(per_row + 1, minlength=size + 1), out=starts[1:])
            found = self._groups[key] = (order, starts)
        return found


@dataclass
class NumberColumn:
    """One number field as integers: ``values`` scaled by ``scale`` (100 for money: cents)."""

    values: np.ndarray
    present: np.ndarray
    scale: int = 1

    @classmethod
    def from_values(cls, raw: Iterable[Any], scale: int = 1) -> NumberColumn:
        values, present = [], []
        for value in raw:
            number = engine_number(value)
            if number is None:
                values.append(0)
                present.append(False)
                continue
            scaled = Decimal(str(number)) * scale if not isinstance(number, int) else number * scale
            if scaled != int(scaled):
                raise ValueError(f"{value!r} has more decimals than the column holds")
            values.append(int(scaled))
            present.append(True)
        return cls(np.asarray(values, dtype=np.int64), np.asarray(present, dtype=bool), scale)


@dataclass
class Columns:
    """The records to route: ids, locks (0 none) and the fields the plan's rules read."""

    ids: np.ndarray
    locks: np.ndarray
    text: dict[str, TextColumn] = field(default_factory=dict)
    numbers: dict[str, NumberColumn] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]], fields: Iterable[str] | None = None) -> Columns:
        """From plain records keyed by field name, with ``id`` and ``locked_territory_id``."""
        names = list(fields) if fields is not None else list(FIELDS)
        out = cls(
            ids=np.asarray([r.get("id") or 0 for r in records], dtype=np.int64),
            locks=np.asarray([r.get("locked_territory_id") or 0 for r in records], dtype=np.int64),
        )
        for name in names:
            f = FIELDS[name]
            if f.type in NUMBER_TYPES:
                out.numbers[name] = NumberColumn.from_values((r.get(name) for r in records), money_scale(f.type))
            else:
                out.text[name] = TextColumn.from_values(r.get(name) for r in records)
        return out


def money_scale(field_type: str) -> int:
    return 100 if field_type == MONEY else 1


def fields_read(plan: CompiledPlan) -> set[str]:
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


# --- conditions --------------------------------------------------------------------------------

Mask = Callable[[Columns, np.ndarray], np.ndarray]  # (columns, rows) -> bool per row


def _member(values: np.ndarray, wanted: Sequence[int] | np.ndarray) -> np.ndarray:
    """``np.isin`` for the short lists rules hold, without its sorting."""
    if len(wanted) > 8:
        return np.isin(values, wanted)
    out = np.zeros(len(values), dtype=bool)
    for w in wanted:
        out |= values == w
    return out


def _scaled(value: Any, scale: int) -> Decimal:
    return Decimal(str(value)) * scale


def _number_condition(name: str, op: str, value: Any, scale: int) -> Mask:
    def column(cols: Columns) -> NumberColumn:
        return cols.numbers[name]

    def compare(test: Callable[[np.ndarray], np.ndarray]) -> Mask:
        def mask(cols: Columns, rows: np.ndarray) -> np.ndarray:
            col = column(cols)
            return col.present[rows] & test(col.values[rows])

        return mask

    def eq_mask(values: list[Any]) -> Mask:
        wanted = [int(s) for s in (_scaled(v, scale) for v in values) if s == int(s)]
        if not wanted:
            return lambda cols, rows: np.zeros(len(rows), dtype=bool)
        if len(wanted) == 1:
            return compare(lambda x: x == wanted[0])
        table = np.asarray(wanted, dtype=np.int64)
        return compare(lambda x: _member(x, table))

    def negate(inner: Mask) -> Mask:
        return lambda cols, rows: ~inner(cols, rows)

    if op in (EQ, NE):
        found = eq_mask([value])
        return found if op == EQ else negate(found)
    if op in (IN, NOT_IN):
        found = eq_mask(list(value))
        return found if op == IN else negate(found)
    if op == BETWEEN:
        lo, hi = math.ceil(_scaled(value[0], scale)), math.floor(_scaled(value[1], scale))
        return compare(lambda x: (x >= lo) & (x <= hi))
    s = _scaled(value, scale)
    low, high = math.floor(s), math.ceil(s)
    if op == GT:
        return compare(lambda x: x > low)
    if op == GTE:
        return compare(lambda x: x >= high)
    if op == LT:
        return compare(lambda x: x < high)
    if op == LTE:
        return compare(lambda x: x <= low)
    raise AssertionError(f"unhandled operator {op}")


def _text_condition(name: str, op: str, value: Any) -> Mask:
    f = FIELDS[name]
    values = [fold(v) for v in (value if isinstance(value, list) else [value])]
    negative = op in (NE, NOT_IN)
    if op == PREFIX or (f.type == HIERARCHY and op in (EQ, IN, NE, NOT_IN)):
        by_length: dict[int, list[str]] = {}
        for v in values:
            by_length.setdefault(len(v), []).append(v)

        def prefix_mask(cols: Columns, rows: np.ndarray) -> np.ndarray:
            col = cols.text[name]
            codes = col.codes[rows]
            out = np.zeros(len(rows), dtype=bool)
            for length, prefixes in by_length.items():
                table, ids = col.prefix_codes(length)
                wanted = [ids[p] for p in prefixes if p in ids]
                if wanted:
                    per_row = table[codes]
                    out |= _member(per_row, wanted)
            return ~out if negative else out

        return prefix_mask

    def exact_mask(cols: Columns, rows: np.ndarray) -> np.ndarray:
        col = cols.text[name]
        wanted = np.concatenate([col.codes_of(v) for v in values]) if values else _EMPTY
        codes = col.codes[rows]
        out = _member(codes, wanted)
        return ~out if negative else out

    return exact_mask


def _condition(node: Mapping[str, Any]) -> Mask:
    name, op, value = node["field"], node["op"], node["value"]
    f = FIELDS[name]
    if op == IS_EMPTY:
        if f.type in NUMBER_TYPES:
            return lambda cols, rows: cols.numbers[name].present[rows] != bool(value)
        return lambda cols, rows: (cols.text[name].codes[rows] < 0) == bool(value)
    if f.type in NUMBER_TYPES:
        return _number_condition(name, op, value, money_scale(f.type))
    return _text_condition(name, op, value)


def _cheap_first(member: Mapping[str, Any]) -> int:
    """Order of ``all`` members: exact text tests, then the rest, groups last."""
    if "all" in member or "any" in member:
        return 2
    f = FIELDS[member["field"]]
    return 0 if f.type not in NUMBER_TYPES and member["op"] in (EQ, IN) and f.type != HIERARCHY else 1


def compile_mask(node: Mapping[str, Any]) -> Mask:
    """A validated, normalised rule as a function of (columns, rows) -> bool per row."""
    if not node:
        return lambda cols, rows: np.ones(len(rows), dtype=bool)
    if "all" in node:
        members = [compile_mask(m) for m in sorted(node["all"], key=_cheap_first)]

        def every(cols: Columns, rows: np.ndarray) -> np.ndarray:
            keep = np.arange(len(rows))
            for member in members:
                keep = keep[member(cols, rows[keep])]
                if not keep.size:
                    break
            out = np.zeros(len(rows), dtype=bool)
            out[keep] = True
            return out

        return every
    if "any" in node:
        members = [compile_mask(m) for m in node["any"]]

        def some(cols: Columns, rows: np.ndarray) -> np.ndarray:
            out = np.zeros(len(rows), dtype=bool)
            rest = np.arange(len(rows))
            for member in members:
                ok = member(cols, rows[rest])
                out[rest[ok]] = True
                rest = rest[~ok]
                if not rest.size:
                    break
            return out

        return some
    return _condition(node)


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
            self._mask = compile_mask(self.rule)
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

    def __init__(self, plan: CompiledPlan):
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


_plans: dict[int, tuple[CompiledPlan, VectorPlan]] = {}


def for_plan(plan: CompiledPlan) -> VectorPlan:
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
                wanted = np.concatenate([col.codes_of(v) for v in values]) if values else _EMPTY
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
            best = np.sort(np.concatenate(parts)) if parts else _EMPTY
        return best

    # Territories parent by parent, so the parent's records can be flagged once for its children.
    queue: list[int | None] = [None]
    while queue:
        parent = queue.pop()
        kids = vplan.children.get(parent, ())
        if not kids:
            continue
        base = all_rows if parent is None else matched.get(parent, _EMPTY)
        flagged = False
        for t_id in kids:
            t = vplan.territories[t_id]
            queue.append(t_id)
            if t.named is not None:
                matched[t_id] = named_rows(t.named)
                continue
            if t.broken or not base.size:
                matched[t_id] = _EMPTY
                continue
            rows = guard_rows(t, len(base) // 4) if len(base) > 4096 and t.guards else None
            if rows is None:
                rows = base
            elif parent is not None:
                if not flagged:
                    scratch.flags[base] = True
                    flagged = True
                rows = rows[scratch.flags[rows]]
            matched[t_id] = rows[t.mask(cols, rows)] if rows.size else _EMPTY
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
        rows = matched.get(t_id, _EMPTY)
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
        overlay_rows = overlay_territory = overlay_credit = _EMPTY

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
