"""Rule schema and validation.

A rule is JSON-shaped data, one of:

* ``{}``: no conditions of its own. It is TRUE: a child territory with an empty rule covers
  exactly what its ancestors cover; a root territory with an empty rule covers every record.
* a condition ``{"field": "employees", "op": "gte", "value": 500}``;
* a group ``{"all": [...]}`` (every member holds) or ``{"any": [...]}`` (at least one holds),
  nested to any shape within the limits below.

``validate(rule)`` returns a normalised deep copy (the input is never touched) or raises
``RuleError`` listing every problem with its path (``all[2].any[0].value``). Normalisation:

* ``{"all": []}`` becomes ``{}`` (true); an empty ``any`` is an error (it could never match,
  which is never what an admin meant);
* text values are trimmed; country/state/region codes are upper-cased (region aliases such as
  "Americas" become "AMER"); numbers given as text ("500") become numbers;
* employees become ``int``; money (annual revenue) becomes ``int`` when whole, otherwise the
  exact decimal as a string ("1250.5"), so the result stays JSON and keeps every cent. Money
  allows at most 2 decimal places (the column's), which keeps ``gt 10.005`` from meaning
  something different in SQL and in Python;
* ``in``/``not_in`` lists are de-duplicated (case-insensitively for text), ``prefix`` always
  becomes a list, ``between`` becomes ``[lo, hi]`` with ``lo <= hi``.

Validating a normalised rule returns an equal rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import Problem, RuleError
from .fields import (
    BETWEEN,
    CODE,
    FIELDS,
    INTEGER,
    INTEGER_MAX,
    IS_EMPTY,
    MONEY,
    MONEY_MAX_ABS,
    NUMBER_TYPES,
    OPERATORS,
    REGION_ALIASES,
    REGIONS,
    Field,
    fold,
)

MAX_DEPTH = 8  # nesting levels of groups and conditions, the root being level 1
MAX_VALUES = 5000  # values across the whole rule (a scalar counts 1, a list its length)

_COUNTRY_RE = re.compile(r"[A-Z]{2}")
_STATE_RE = re.compile(r"[A-Z]{2}-[A-Z0-9]{1,3}")
_INT_TEXT_RE = re.compile(r"[+-]?\d+")
_CONDITION_KEYS = frozenset({"field", "op", "value"})


class _Invalid(Exception):
    """One value could not be coerced; the message is for the admin."""


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _show(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else f"'{value}'"
    return text if len(text) <= 40 else text[:37] + "..."


class _Validator:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.values = 0
        self.too_big = False

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    # -- nodes ---------------------------------------------------------------------------------

    def node(self, node: Any, path: str, depth: int) -> dict | None:
        if not isinstance(node, Mapping):
            self.fail(path, f"A rule must be an object (a condition or an all/any group), got {_show(node)}")
            return None
        if depth > MAX_DEPTH:
            self.fail(path, f"Rules may nest at most {MAX_DEPTH} levels deep")
            return None
        if not node:
            if depth > 1:
                self.fail(path, "Empty condition: choose a field, an operator and a value")
                return None
            return {}
        groups = [k for k in ("all", "any") if k in node]
        if groups:
            if len(groups) == 2 or len(node) != 1:
                extra = sorted(str(k) for k in node if k != groups[0])
                self.fail(path, f"A group has exactly one key, 'all' or 'any'; also found {', '.join(extra)}")
                return None
            return self.group(groups[0], node[groups[0]], path, depth)
        return self.condition(node, path)

    def group(self, kind: str, members: Any, path: str, depth: int) -> dict | None:
        here = _join(path, kind)
        if not isinstance(members, list | tuple):
            self.fail(here, f"'{kind}' needs a list of conditions, got {_show(members)}")
            return None
        if not members and kind == "any":
            self.fail(here, "An 'any' group needs at least one condition")
            return None
        out = []
        for i, member in enumerate(members):
            child = self.node(member, f"{here}[{i}]", depth + 1)
            if child is not None:
                out.append(child)
            if self.too_big:
                return None
        return {kind: out}

    def condition(self, node: Mapping, path: str) -> dict | None:
        unknown = sorted(str(k) for k in node if k not in _CONDITION_KEYS)
        if unknown:
            self.fail(path, f"Unknown key {', '.join(repr(k) for k in unknown)} in a condition")
        name, op = node.get("field"), node.get("op")
        field = FIELDS.get(name) if isinstance(name, str) else None
        if field is None:
            self.fail(_join(path, "field"), "A condition needs a field" if name in (None, "") else
                      f"Unknown field {_show(name)}")
        operator = OPERATORS.get(op) if isinstance(op, str) else None
        if operator is None:
            self.fail(_join(path, "op"), "A condition needs an operator" if op in (None, "") else
                      f"Unknown operator {_show(op)}")
        elif field is not None and op not in field.operators:
            self.fail(_join(path, "op"), f"Operator '{op}' does not apply to {field.label}")
            return None
        if field is None or operator is None or unknown:
            return None
        if "value" not in node:
            self.fail(_join(path, "value"), f"{field.label} {operator.label} needs a value")
            return None
        value = self.value(field, operator.arity, node["value"], _join(path, "value"))
        if value is None:
            return None
        return {"field": field.name, "op": op, "value": value}

    # -- values --------------------------------------------------------------------------------

    def count(self, n: int, path: str) -> bool:
        self.values += n
        if self.values > MAX_VALUES:
            self.fail(path, f"A rule may hold at most {MAX_VALUES} values in total")
            self.too_big = True
            return False
        return True

    def value(self, field: Field, arity: str, raw: Any, path: str) -> Any:
        if arity == "flag":
            if not isinstance(raw, bool):
                self.fail(path, f"'{IS_EMPTY}' needs true or false, got {_show(raw)}")
                return None
            return raw
        if arity == "one":
            if isinstance(raw, list | tuple):
                self.fail(path, f"{field.label} needs a single value here, got a list (use 'in' for several)")
                return None
            return self.scalar(field, raw, path) if self.count(1, path) else None
        if arity == "pair":
            if not isinstance(raw, list | tuple) or len(raw) != 2:
                self.fail(path, f"'{BETWEEN}' needs two values [low, high], got {_show(raw)}")
                return None
            if not self.count(2, path):
                return None
            lo, hi = (self.scalar(field, v, f"{path}[{i}]") for i, v in enumerate(raw))
            if lo is None or hi is None:
                return None
            if _as_decimal(lo) > _as_decimal(hi):
                self.fail(path, f"The low bound {lo} is greater than the high bound {hi}")
                return None
            return [lo, hi]
        # "many" and "prefixes"
        items = [raw] if arity == "prefixes" and not isinstance(raw, list | tuple) else raw
        if not isinstance(items, list | tuple):
            self.fail(path, f"{field.label} needs a list of values here, got {_show(raw)}")
            return None
        if not items:
            self.fail(path, f"{field.label} needs at least one value")
            return None
        if not self.count(len(items), path):
            return None
        out, seen, ok = [], set(), True
        for i, item in enumerate(items):
            value = self.scalar(field, item, f"{path}[{i}]")
            if value is None:
                ok = False
                continue
            key = fold(value) if isinstance(value, str) and field.type not in NUMBER_TYPES else _as_decimal(value)
            if key not in seen:
                seen.add(key)
                out.append(value)
        return out if ok else None

    def scalar(self, field: Field, raw: Any, path: str) -> Any:
        try:
            if field.type == INTEGER:
                return _integer(field, raw)
            if field.type == MONEY:
                return _money(field, raw)
            return _text(field, raw)
        except _Invalid as exc:
            self.fail(path, str(exc))
            return None


def _integer(field: Field, raw: Any) -> int:
    if isinstance(raw, bool):
        raise _Invalid(f"{field.label} needs a whole number, got {_show(raw)}")
    if isinstance(raw, str) and _INT_TEXT_RE.fullmatch(raw.strip()):
        value = int(raw.strip())
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float | Decimal) and _finite(raw) and raw == int(raw):
        value = int(raw)
    else:
        raise _Invalid(f"{field.label} needs a whole number, got {_show(raw)}")
    if abs(value) > INTEGER_MAX:
        raise _Invalid(f"{field.label} must be between {-INTEGER_MAX} and {INTEGER_MAX}")
    return value


def _money(field: Field, raw: Any) -> int | str:
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        raise _Invalid(f"{field.label} needs an amount, got {_show(raw)}")
    try:
        # str() of a float gives its shortest round-trip form, so 0.1 stays 0.1.
        value = Decimal(raw.strip().replace(",", "") if isinstance(raw, str) else str(raw))
    except InvalidOperation:
        raise _Invalid(f"{field.label} needs an amount, got {_show(raw)}") from None
    if not value.is_finite():
        raise _Invalid(f"{field.label} needs an amount, got {_show(raw)}")
    # The range first: quantizing 1e30 to cents needs more digits than the decimal context has.
    if abs(value) >= MONEY_MAX_ABS:
        raise _Invalid(f"{field.label} must be below {MONEY_MAX_ABS:,}")
    if value != value.quantize(Decimal("0.01"), rounding="ROUND_DOWN"):
        raise _Invalid(f"{field.label} allows at most 2 decimal places, got {_show(raw)}")
    if value == value.to_integral_value():
        return int(value)
    return format(value.normalize(), "f")


def _text(field: Field, raw: Any) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool) and field.type != CODE:
        raw = str(raw)  # a postal or industry code typed as a number
    if not isinstance(raw, str):
        raise _Invalid(f"{field.label} needs text, got {_show(raw)}")
    value = raw.strip()
    if not value:
        raise _Invalid(f"{field.label} needs a value (use 'is empty' to match a missing one)")
    if "\x00" in value:
        raise _Invalid(f"{field.label} may not contain NUL characters")
    if field.type == CODE:
        value = value.upper()
        if field.name == "country" and not _COUNTRY_RE.fullmatch(value):
            raise _Invalid(f"Country needs an ISO 3166-1 alpha-2 code such as 'US', got {_show(raw)}")
        if field.name == "state" and not _STATE_RE.fullmatch(value):
            raise _Invalid(f"State/Province needs an ISO 3166-2 code such as 'US-CA', got {_show(raw)}")
        if field.name == "region":
            value = REGION_ALIASES.get(value, value)
            if value not in REGIONS:
                raise _Invalid(f"Region must be one of {', '.join(REGIONS)}, got {_show(raw)}")
    elif len(value) > field.max_length:
        raise _Invalid(f"{field.label} is at most {field.max_length} characters, got {len(value)}")
    return value


def _finite(value: float | Decimal) -> bool:
    return value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)


def _as_decimal(value: Any) -> Any:
    return Decimal(value) if isinstance(value, int | str) and not isinstance(value, bool) else value


def condition(field: str, op: str, value: Any) -> dict[str, Any]:
    """One condition node of a rule (``{"field": ..., "op": ..., "value": ...}``), unvalidated."""
    return {"field": field, "op": op, "value": value}


def validate(rule: Any) -> dict:
    """Return the normalised copy of ``rule`` or raise ``RuleError`` (see the module doc)."""
    if rule is None:
        rule = {}
    checker = _Validator()
    out = checker.node(rule, "", 1)
    if checker.problems:
        raise RuleError(checker.problems)
    assert out is not None
    return _collapse(out)


def _collapse(node: dict) -> dict:
    # An empty "all" is true and normalises to {}; true members vanish from an "all" and make an
    # "any" true. Keeps validate idempotent.
    for kind in ("all", "any"):
        if kind in node:
            members = [_collapse(c) for c in node[kind]]
            if kind == "any" and {} in members:
                return {}
            members = [m for m in members if m != {}]
            return {kind: members} if members else {}
    return node


def money_value(value: int | str) -> Decimal:
    """The Decimal of a normalised money value."""
    return Decimal(value)
