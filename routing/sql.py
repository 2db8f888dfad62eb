"""Territory rules as Django ``Q`` objects, selecting exactly the rows the engine's evaluator
accepts (tests generate rules and rows and compare both, on SQLite and PostgreSQL).

How the engine's semantics (``routing.engine.fields``) map to SQL:

* Text compares ASCII-case-insensitively: both sides go through ``AsciiUpper``, which is
  ``UPPER()`` on SQLite (ASCII-only there) and ``TRANSLATE(col, 'a..z', 'A..Z')`` on PostgreSQL
  (its ``UPPER`` follows the database locale and would fold "é" where Python and SQLite do not).
  Rule values are folded in Python before they reach SQL. Prefixes use ``LIKE 'P%'`` with the
  pattern escaped; on the folded column SQLite's case-blind LIKE and PostgreSQL's case-exact one
  agree.
* Missing is NULL or ``''``. Positive operators are false on it by construction (``'' = 'X'``
  is false, ``NULL`` comparisons are not true). ``ne``/``not_in`` add ``OR col IS NULL`` (and
  ``''`` never equals a validated value), so they are true on missing, as in Python.
* Industry is hierarchical: ``eq``/``in``/``prefix`` on ``industry_code`` become prefix matches.
* Money compares as Decimal. SQLite stores decimals as REAL: exact for the at most 2 decimal
  places and 14 integer digits the column holds.

The folded comparisons cannot use the plain column indexes; an expression index on the folded
column (or ``UPPER`` on SQLite) makes them indexable if a rule-driven query ever needs it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import reduce
from typing import Any

from django.db.models import F, Func, Q
from django.db.models.fields import CharField
from django.db.models.lookups import Exact, In, StartsWith

from routing.engine import COLUMNS, FIELDS, compile_rule, fold
from routing.engine.errors import Problem, RuleError
from routing.engine.evaluate import CompiledRule
from routing.engine.fields import (
    BETWEEN,
    EQ,
    EQUALS,
    GT,
    GTE,
    HIERARCHY,
    IN,
    IS_EMPTY,
    LT,
    LTE,
    MEMBER,
    MONEY,
    NE,
    NOT_IN,
    NUMBER_TYPES,
    OPERATORS,
    PREFIX,
    SQL,
    Field,
    Operator,
    register_form,
)

# Record key -> model column, per model (the one mapping: services, the API and the SQL compiler
# use it). Leads carry the company name in ``company`` and have no domain column.
LEAD_COLUMNS: Mapping[str, str] = {**{k: v for k, v in COLUMNS.items() if k != "domain"}, "name": "company"}
ACCOUNT_COLUMNS: Mapping[str, str] = dict(COLUMNS)

_LOWER = "abcdefghijklmnopqrstuvwxyz"


class AsciiUpper(Func):
    """ASCII-only upper case, identical on every backend we run (see the module doc)."""

    function = "UPPER"
    arity = 1
    output_field = CharField()

    def as_postgresql(self, compiler, connection, **extra_context):
        # Constants inline: they are fixed ASCII, and inlining keeps the expression identical
        # from query to query (so an expression index could match it).
        return self.as_sql(
            compiler,
            connection,
            function="TRANSLATE",
            template=f"%(function)s((%(expressions)s)::text, '{_LOWER}', '{_LOWER.upper()}')",
            **extra_context,
        )


# An equality on folded text is also the set of raw values that fold to it: every ASCII letter
# either way round, every other character as is. While that set is small (codes such as "US-CA"
# have 16), ``column IN (variants)`` says the same as the folded form and can use the column's
# plain index, which a scope query over a million accounts needs.
MAX_CASE_VARIANTS = 64


def case_variants(folded: str) -> list[str] | None:
    """The raw values folding to ``folded`` (itself folded), or None when there are too many."""
    letters = sum(1 for c in folded if "A" <= c <= "Z")
    if 2**letters > MAX_CASE_VARIANTS:
        return None
    found = [""]
    for c in folded:
        found = [p + v for p in found for v in ((c, c.lower()) if "A" <= c <= "Z" else (c,))]
    return found


def _text_missing(column: str) -> Q:
    return Q(**{f"{column}__isnull": True}) | Q(**{column: ""})


def _any_of(parts: list[Q]) -> Q:
    return reduce(operator.or_, parts)


# Each operator's SQL form: (column, field, operator, validated rule value) -> Q. Registered on
# the operator beside its scalar and vector forms in ``routing.engine`` (same keys).

# The Django lookup of each ordering operator's comparison.
_ORDER_LOOKUPS: dict[Callable[[Any, Any], Any] | None, str] = {
    operator.gt: "gt", operator.ge: "gte", operator.lt: "lt", operator.le: "lte",
}


def _convert(field: Field) -> Any:
    return Decimal if field.type == MONEY else int


def _negated(op: Operator, column: str, positive: Q) -> Q:
    """``positive``, or for ``ne``/``not_in`` its complement with NULL (true on missing; '' is
    never a validated value, so only NULL needs saying explicitly)."""
    if op.negates:
        return Q(**{f"{column}__isnull": True}) | ~positive
    return positive


def _starts(column: str, values: list[str]) -> Q:
    folded = AsciiUpper(F(column))
    return _any_of([Q(StartsWith(folded, v)) for v in values])


@register_form(SQL, EQ, NE, IN, NOT_IN)
def _equals(column: str, field: Field, op: Operator, value: Any) -> Q:
    if field.type in NUMBER_TYPES:
        convert = _convert(field)
        if op.kind == MEMBER:
            positive = Q(**{f"{column}__in": [convert(v) for v in value]})
        else:
            positive = Q(**{f"{column}__exact": convert(value)})
        return _negated(op, column, positive)
    values = [fold(v) for v in (value if isinstance(value, list) else [value])]
    if field.type == HIERARCHY:  # a code matches everything below it
        return _negated(op, column, _starts(column, values))
    variants = [case_variants(v) for v in values]
    if all(v is not None for v in variants) and sum(len(v or ()) for v in variants) <= 4 * MAX_CASE_VARIANTS:
        positive = Q(**{f"{column}__in": sorted({raw for v in variants for raw in v or ()})})
    elif op.kind == EQUALS:
        positive = Q(Exact(AsciiUpper(F(column)), values[0]))
    else:
        positive = Q(In(AsciiUpper(F(column)), values))
    return _negated(op, column, positive)


@register_form(SQL, PREFIX)
def _prefix(column: str, field: Field, op: Operator, value: Any) -> Q:
    values = [fold(v) for v in (value if isinstance(value, list) else [value])]
    return _negated(op, column, _starts(column, values))


@register_form(SQL, GT, GTE, LT, LTE)
def _order(column: str, field: Field, op: Operator, value: Any) -> Q:
    return Q(**{f"{column}__{_ORDER_LOOKUPS[op.compare]}": _convert(field)(value)})


@register_form(SQL, BETWEEN)
def _range(column: str, field: Field, op: Operator, value: Any) -> Q:
    lo, hi = (_convert(field)(v) for v in value)
    return Q(**{f"{column}__gte": lo, f"{column}__lte": hi})


@register_form(SQL, IS_EMPTY)
def _flag(column: str, field: Field, op: Operator, value: Any) -> Q:
    if field.type in NUMBER_TYPES:
        return Q(**{f"{column}__isnull": bool(value)})
    return _text_missing(column) if value else ~_text_missing(column)


def _condition(node: Mapping[str, Any], columns: Mapping[str, str], path: str) -> Q:
    name, op = node["field"], OPERATORS[node["op"]]
    field = FIELDS[name]
    column = columns.get(name)
    if column is None:
        raise RuleError([Problem(f"{path}.field" if path else "field", f"{field.label} is not available here")])
    q: Q = op.form(SQL)(column, field, op, node["value"])
    return q


def _node(node: Mapping[str, Any], columns: Mapping[str, str], path: str) -> Q:
    if not node:
        return Q()
    for kind in ("all", "any"):
        if kind in node:
            here = f"{path}.{kind}" if path else kind
            parts = [_node(m, columns, f"{here}[{i}]") for i, m in enumerate(node[kind])]
            if kind == "all":
                return reduce(operator.and_, parts, Q())
            return _any_of(parts)
    return _condition(node, columns, path)


def rule_to_q(rule: Mapping[str, Any] | CompiledRule, *, columns: Mapping[str, str] = ACCOUNT_COLUMNS) -> Q:
    """The ``Q`` selecting the rows ``rule`` matches. Validates first (raises ``RuleError``).
    ``{}`` gives ``Q()`` (every row). Use ``columns=LEAD_COLUMNS`` for lead querysets."""
    return _node(compile_rule(rule).rule, columns, "")
