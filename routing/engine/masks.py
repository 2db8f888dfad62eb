"""Rules as masks over columns (``routing.engine.columns``): ``rule_mask(rule)`` is a function
of (columns, rows) giving one bool per row, true exactly where ``evaluate`` accepts the record.

Each operator's *vector form* is registered on the operator (``fields.register_form``), beside
its scalar form in ``routing.engine.evaluate`` and its SQL form in ``routing.sql``; a
condition's mask is its operator's form. Numbers compare as scaled integers, so a rule value is
turned into the integer bound that selects the same integers (``_integer_bound``); text compares
through the column's table of distinct values, folded once per value, not once per row.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from .columns import EMPTY, Columns, NumberColumn, money_scale
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
    NE,
    NOT_IN,
    NUMBER_TYPES,
    OPERATORS,
    PREFIX,
    VECTOR,
    Field,
    Operator,
    fold,
    register_form,
)

Mask = Callable[[Columns, np.ndarray], np.ndarray]  # (columns, rows) -> bool per row


def member(values: np.ndarray, wanted: Sequence[int] | np.ndarray) -> np.ndarray:
    """``np.isin`` for the short lists rules hold, without its sorting."""
    if len(wanted) > 8:
        return np.isin(values, wanted)
    out = np.zeros(len(values), dtype=bool)
    for w in wanted:
        out |= values == w
    return out


def _scaled(value: Any, scale: int) -> Decimal:
    return Decimal(str(value)) * scale


def _negated(op: Operator, mask: Mask) -> Mask:
    """``mask``, or its exact complement for ``ne``/``not_in`` (true on missing, as in Python)."""
    if not op.negates:
        return mask
    return lambda cols, rows: ~mask(cols, rows)


def _numbers(name: str, test: Callable[[np.ndarray], np.ndarray]) -> Mask:
    def mask(cols: Columns, rows: np.ndarray) -> np.ndarray:
        col: NumberColumn = cols.numbers[name]
        return col.present[rows] & test(col.values[rows])

    return mask


def _number_equals(name: str, values: list[Any], scale: int) -> Mask:
    wanted = [int(s) for s in (_scaled(v, scale) for v in values) if s == int(s)]
    if not wanted:
        return lambda cols, rows: np.zeros(len(rows), dtype=bool)
    if len(wanted) == 1:
        return _numbers(name, lambda x: x == wanted[0])
    table = np.asarray(wanted, dtype=np.int64)
    return _numbers(name, lambda x: member(x, table))


def _text_starts(name: str, values: list[str]) -> Mask:
    by_length: dict[int, list[str]] = {}
    for v in values:
        by_length.setdefault(len(v), []).append(v)

    def mask(cols: Columns, rows: np.ndarray) -> np.ndarray:
        col = cols.text[name]
        codes = col.codes[rows]
        out = np.zeros(len(rows), dtype=bool)
        for length, prefixes in by_length.items():
            table, ids = col.prefix_codes(length)
            wanted = [ids[p] for p in prefixes if p in ids]
            if wanted:
                out |= member(table[codes], wanted)
        return out

    return mask


def _text_equals(name: str, values: list[str]) -> Mask:
    def mask(cols: Columns, rows: np.ndarray) -> np.ndarray:
        col = cols.text[name]
        wanted = np.concatenate([col.codes_of(v) for v in values]) if values else EMPTY
        return member(col.codes[rows], wanted)

    return mask


def _folded(value: Any) -> list[str]:
    return [fold(v) for v in (value if isinstance(value, list) else [value])]


# --- the vector forms: (field, operator, validated rule value) -> mask ---------------------------


@register_form(VECTOR, EQ, NE, IN, NOT_IN)
def _equals(f: Field, op: Operator, value: Any) -> Mask:
    if f.type in NUMBER_TYPES:
        found = _number_equals(f.name, value if isinstance(value, list) else [value], money_scale(f.type))
    elif f.type == HIERARCHY:  # a code matches everything below it
        found = _text_starts(f.name, _folded(value))
    else:
        found = _text_equals(f.name, _folded(value))
    return _negated(op, found)


@register_form(VECTOR, PREFIX)
def _starts(f: Field, op: Operator, value: Any) -> Mask:
    return _negated(op, _text_starts(f.name, _folded(value)))


def _integer_bound(op: Operator, s: Decimal) -> int:
    """The integer t with ``compare(x, t) == compare(x, s)`` for every integer x: the floor of s
    for > and <=, its ceiling for >= and < (the floor works exactly when it compares with s as
    with itself)."""
    assert op.compare is not None
    low = math.floor(s)
    return low if op.compare(low, s) == op.compare(low, low) else math.ceil(s)


@register_form(VECTOR, GT, GTE, LT, LTE)
def _order(f: Field, op: Operator, value: Any) -> Mask:
    compare = op.compare
    assert compare is not None
    bound = _integer_bound(op, _scaled(value, money_scale(f.type)))
    return _numbers(f.name, lambda x: compare(x, bound))


@register_form(VECTOR, BETWEEN)
def _range(f: Field, op: Operator, value: Any) -> Mask:
    scale = money_scale(f.type)
    lo, hi = math.ceil(_scaled(value[0], scale)), math.floor(_scaled(value[1], scale))
    return _numbers(f.name, lambda x: (x >= lo) & (x <= hi))


@register_form(VECTOR, IS_EMPTY)
def _flag(f: Field, op: Operator, value: Any) -> Mask:
    name = f.name
    if f.type in NUMBER_TYPES:
        return lambda cols, rows: cols.numbers[name].present[rows] != bool(value)
    return lambda cols, rows: (cols.text[name].codes[rows] < 0) == bool(value)


def _condition(node: Mapping[str, Any]) -> Mask:
    op = OPERATORS[node["op"]]
    mask: Mask = op.form(VECTOR)(FIELDS[node["field"]], op, node["value"])
    return mask


# --- groups ----------------------------------------------------------------------------------


def _cheap_first(node: Mapping[str, Any]) -> int:
    """Order of ``all`` members: exact text tests, then the rest, groups last."""
    if "all" in node or "any" in node:
        return 2
    f = FIELDS[node["field"]]
    return 0 if f.type not in NUMBER_TYPES and node["op"] in (EQ, IN) and f.type != HIERARCHY else 1


def rule_mask(node: Mapping[str, Any]) -> Mask:
    """A validated, normalised rule as a function of (columns, rows) -> bool per row."""
    if not node:
        return lambda cols, rows: np.ones(len(rows), dtype=bool)
    if "all" in node:
        members = [rule_mask(m) for m in sorted(node["all"], key=_cheap_first)]

        def every(cols: Columns, rows: np.ndarray) -> np.ndarray:
            keep = np.arange(len(rows))
            for mask in members:
                keep = keep[mask(cols, rows[keep])]
                if not keep.size:
                    break
            out = np.zeros(len(rows), dtype=bool)
            out[keep] = True
            return out

        return every
    if "any" in node:
        members = [rule_mask(m) for m in node["any"]]

        def some(cols: Columns, rows: np.ndarray) -> np.ndarray:
            out = np.zeros(len(rows), dtype=bool)
            rest = np.arange(len(rows))
            for mask in members:
                ok = mask(cols, rows[rest])
                out[rest[ok]] = True
                rest = rest[~ok]
                if not rest.size:
                    break
            return out

        return some
    return _condition(node)
