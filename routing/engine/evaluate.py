"""Evaluation of validated rules against plain records, with an optional trace.

``compile_rule(rule)`` validates once and turns the rule into nested closures; ``matches`` on the
result costs a few dictionary lookups per condition. Records are mappings keyed by field name
(``industry`` for the industry code); ``prepare(record)`` turns one into *facts* (text folded
to ASCII upper case, numbers coerced, missing values as ``None``) so a record evaluated against
many rules is normalised once. The semantics (case, missing values, industry hierarchy) are in
``routing.engine.fields``.

Specificity, used to break priority ties between territories, is ``(geo_level, conditions)``:

* ``geo_level``: the finest geographic level the rule guarantees, from positive conditions
  (``eq``/``in``/``prefix``) on postal 5, metro/city 4, state 3, region 2, country 1 (the DESIGN
  ranking). An ``all`` group takes its finest member; an ``any`` group its COARSEST alternative,
  because a record may match through that one. ``ne``/``not_in``/``is_empty`` narrow nothing.
* ``conditions``: how many conditions must all hold, i.e. those reached from the root through
  ``all`` groups only. An ``any`` group of two or more alternatives adds none (no single one of
  them must hold); a one-member ``any`` counts as its member.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import total_ordering
from typing import Any

from .fields import (
    BETWEEN,
    EQ,
    EQUALS,
    FIELDS,
    GEO_LEVEL_NAMES,
    GT,
    GTE,
    HIERARCHY,
    IN,
    INTEGER,
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
    SCALAR,
    STARTS,
    Operator,
    fold,
    register_form,
)
from .validate import validate

Facts = dict[str, Any]
Predicate = Callable[[Facts], bool]

_NUMBER_FIELDS = tuple(name for name, f in FIELDS.items() if f.type in NUMBER_TYPES)
_TEXT_FIELDS = tuple(name for name, f in FIELDS.items() if f.type not in NUMBER_TYPES)


# --- records --------------------------------------------------------------------------------


def prepare(record: Mapping[str, Any]) -> Facts:
    """Normalise a record's routable values (see module doc). Other keys are dropped."""
    facts: Facts = {}
    get = record.get
    for name in _TEXT_FIELDS:
        value = get(name)
        if value is None or value == "":
            facts[name] = None
        else:
            facts[name] = fold(value if isinstance(value, str) else str(value))
    for name in _NUMBER_FIELDS:
        facts[name] = _number(get(name))
    return facts


def _number(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


# --- specificity ----------------------------------------------------------------------------


@total_ordering
@dataclass(frozen=True, slots=True)
class Specificity:
    geo_level: int = 0
    conditions: int = 0

    def __lt__(self, other: Specificity) -> bool:
        return (self.geo_level, self.conditions) < (other.geo_level, other.conditions)

    def __add__(self, other: Specificity) -> Specificity:
        """Both rules must hold (a child and its ancestors)."""
        return Specificity(max(self.geo_level, other.geo_level), self.conditions + other.conditions)

    def describe(self) -> str:
        return f"{GEO_LEVEL_NAMES[self.geo_level]} level, {self.conditions} condition(s)"

    def to_dict(self) -> dict[str, Any]:
        return {"geo_level": self.geo_level, "geo": GEO_LEVEL_NAMES[self.geo_level], "conditions": self.conditions}


# The positive operators that pin a value down (not a comparison): they give a geographic level.
_GEO_OPS = frozenset(n for n, op in OPERATORS.items() if op.positive and op.kind in (EQUALS, MEMBER, STARTS))


def specificity(rule: Mapping[str, Any]) -> Specificity:
    """Specificity of a normalised rule (see the module doc)."""
    if not rule:
        return Specificity()
    if "all" in rule:
        parts = [specificity(member) for member in rule["all"]]
        return Specificity(max(p.geo_level for p in parts), sum(p.conditions for p in parts))
    if "any" in rule:
        parts = [specificity(member) for member in rule["any"]]
        return Specificity(min(p.geo_level for p in parts), parts[0].conditions if len(parts) == 1 else 0)
    geo = FIELDS[rule["field"]].geo_level if rule["op"] in _GEO_OPS else 0
    return Specificity(geo, 1)


# --- compiling ------------------------------------------------------------------------------


def _rule_values(field_type: str, value: Any) -> Any:
    """Rule values in the form facts take: folded text, Decimal money."""
    if isinstance(value, list):
        return [_rule_values(field_type, v) for v in value]
    if isinstance(value, bool):
        return value
    if field_type == MONEY:
        return Decimal(value)
    if field_type == INTEGER:
        return value
    return fold(value)


# Each operator's scalar form: (field name, field type, operator, rule value as facts hold it)
# -> predicate over facts. Registered on the operator (``fields.register_form``), looked up there.


@register_form(SCALAR, PREFIX)
def _starts(name: str, ftype: str, op: Operator, v: Any) -> Predicate:
    prefixes = tuple(v) if isinstance(v, list) else (v,)
    if op.negates:  # the hierarchical ne/not_in: everything outside the branches
        return lambda f: f[name] is None or not f[name].startswith(prefixes)
    return lambda f: f[name] is not None and f[name].startswith(prefixes)


@register_form(SCALAR, EQ, NE)
def _equals(name: str, ftype: str, op: Operator, v: Any) -> Predicate:
    if ftype == HIERARCHY:  # industry codes are a tree: a code matches everything below it
        return _starts(name, ftype, op, v)
    if op.negates:
        return lambda f: f[name] != v  # None != v: true on missing, the complement of eq
    return lambda f: f[name] == v


@register_form(SCALAR, IN, NOT_IN)
def _member(name: str, ftype: str, op: Operator, v: Any) -> Predicate:
    if ftype == HIERARCHY:
        return _starts(name, ftype, op, v)
    members = frozenset(v)
    if op.negates:
        return lambda f: f[name] not in members
    return lambda f: f[name] in members


@register_form(SCALAR, GT, GTE, LT, LTE)
def _order(name: str, ftype: str, op: Operator, v: Any) -> Predicate:
    compare = op.compare
    assert compare is not None
    return lambda f: (x := f[name]) is not None and compare(x, v)


@register_form(SCALAR, BETWEEN)
def _range(name: str, ftype: str, op: Operator, v: Any) -> Predicate:
    lo, hi = v
    return lambda f: f[name] is not None and lo <= f[name] <= hi


@register_form(SCALAR, IS_EMPTY)
def _flag(name: str, ftype: str, op: Operator, v: Any) -> Predicate:
    if v:
        return lambda f: f[name] is None
    return lambda f: f[name] is not None


def _condition(name: str, op: str, value: Any) -> Predicate:
    ftype = FIELDS[name].type
    operator = OPERATORS[op]
    predicate: Predicate = operator.form(SCALAR)(name, ftype, operator, _rule_values(ftype, value))
    return predicate


def _all(preds: list[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda f: a(f) and b(f)

    def every(f: Facts) -> bool:
        # A plain loop: all() over a generator costs a frame per call on the hot path.
        for pred in preds:  # noqa: SIM110
            if not pred(f):
                return False
        return True

    return every


def _any(preds: list[Predicate]) -> Predicate:
    if len(preds) == 1:
        return preds[0]
    if len(preds) == 2:
        a, b = preds
        return lambda f: a(f) or b(f)

    def some(f: Facts) -> bool:
        for pred in preds:  # noqa: SIM110 - see every()
            if pred(f):
                return True
        return False

    return some


def _always(_f: Facts) -> bool:
    return True


def _build(node: Mapping[str, Any]) -> Predicate:
    if not node:
        return _always
    if "all" in node:
        return _all([_build(m) for m in node["all"]])
    if "any" in node:
        return _any([_build(m) for m in node["any"]])
    return _condition(node["field"], node["op"], node["value"])


# --- trace ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


@dataclass(frozen=True, slots=True)
class Trace:
    """How one node of a rule fared against one record. ``actual`` is the record's own value."""

    path: str
    kind: str  # "all", "any", "condition" or "empty"
    matched: bool
    field: str | None = None
    op: str | None = None
    value: Any = None
    actual: Any = None
    children: tuple[Trace, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "kind": self.kind, "matched": self.matched}
        if self.kind == "condition":
            out.update(field=self.field, op=self.op, value=_plain(self.value), actual=_plain(self.actual))
        if self.children:
            out["children"] = [c.to_dict() for c in self.children]
        return out


def _explain(node: Mapping[str, Any], record: Mapping[str, Any], facts: Facts, path: str) -> Trace:
    if not node:
        return Trace(path, "empty", True)
    for kind in ("all", "any"):
        if kind in node:
            here = f"{path}.{kind}" if path else kind
            children = tuple(
                _explain(m, record, facts, f"{here}[{i}]") for i, m in enumerate(node[kind])
            )
            results = [c.matched for c in children]
            return Trace(path, kind, all(results) if kind == "all" else any(results), children=children)
    name = node["field"]
    matched = _condition(name, node["op"], node["value"])(facts)
    return Trace(path, "condition", matched, name, node["op"], node["value"], record.get(name))


# --- public ---------------------------------------------------------------------------------


class CompiledRule:
    """A validated rule ready to evaluate many times."""

    __slots__ = ("rule", "matches_facts", "specificity")

    def __init__(self, rule: Mapping[str, Any], *, validated: bool = False):
        self.rule = rule if validated else validate(rule)
        self.matches_facts: Predicate = _build(self.rule)
        self.specificity = specificity(self.rule)

    def matches(self, record: Mapping[str, Any]) -> bool:
        return self.matches_facts(prepare(record))

    def explain(self, record: Mapping[str, Any]) -> Trace:
        return _explain(self.rule, record, prepare(record), "")

    def __repr__(self) -> str:
        return f"CompiledRule({self.rule!r})"


def compile_rule(rule: Mapping[str, Any] | CompiledRule) -> CompiledRule:
    """Validate (raising ``RuleError``) and compile a rule; a compiled rule is returned as is."""
    return rule if isinstance(rule, CompiledRule) else CompiledRule(rule)


def evaluate(rule: Mapping[str, Any] | CompiledRule, record: Mapping[str, Any]) -> bool:
    """Does ``record`` satisfy ``rule``? Pass a ``CompiledRule`` when evaluating many records."""
    return compile_rule(rule).matches(record)


def explain(rule: Mapping[str, Any] | CompiledRule, record: Mapping[str, Any]) -> Trace:
    """The full trace of ``rule`` on ``record`` (every node evaluated, no short-circuit)."""
    return compile_rule(rule).explain(record)
