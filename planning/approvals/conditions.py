"""Conditions as data over a proposal's impact facts: when a policy or one of its steps applies.

A condition is a leaf ``{"fact": "moved_pipeline", "op": "gt", "value": 250000}`` or a group
``{"all": [...]}``, ``{"any": [...]}``, ``{"not": {...}}``; the empty condition ``{}`` always holds.
Facts (``ApprovalFacts.as_mapping()``): ``kind`` and ``initiator_role`` (text: eq, ne, in, not_in),
``moved_accounts``, ``moved_deals`` and ``moved_pipeline`` (numbers: eq, ne, gt, gte, lt, lte).

``condition_errors`` lists every problem with a path (``any[1].value``) so an editor can show it;
``condition_holds`` evaluates a valid condition, never mutates it, and raises ``ConditionError``
on an invalid one instead of guessing.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from planning.models import Reassignment
from salesos.models import SalesProfile

NUMBER_FACTS: dict[str, str] = {
    "moved_accounts": "Accounts moved",
    "moved_deals": "Open deals moved",
    "moved_pipeline": "Open pipeline moved",
}
TEXT_FACTS: dict[str, tuple[str, dict[str, str]]] = {
    "kind": ("Kind of change", dict(Reassignment.Kind.choices)),
    "initiator_role": ("Proposed by a", dict(SalesProfile.Role.choices)),
}
FACT_LABELS = {**NUMBER_FACTS, **{name: label for name, (label, _) in TEXT_FACTS.items()}}

NUMBER_OPS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "gt": ("more than", operator.gt),
    "gte": ("at least", operator.ge),
    "lt": ("less than", operator.lt),
    "lte": ("at most", operator.le),
    "eq": ("exactly", operator.eq),
    "ne": ("not", operator.ne),
}
TEXT_OPS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "eq": ("is", operator.eq),
    "ne": ("is not", operator.ne),
    "in": ("is one of", lambda fact, value: fact in value),
    "not_in": ("is none of", lambda fact, value: fact not in value),
}
GROUPS = ("all", "any", "not")
MAX_DEPTH = 6


class ConditionError(ValueError):
    """An invalid condition reached evaluation (``condition_errors`` names the problems)."""


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _leaf_errors(node: Mapping[str, Any], path: str) -> list[str]:
    fact: Any = node.get("fact")
    op: Any = node.get("op")
    value: Any = node.get("value")
    extra = set(node) - {"fact", "op", "value"}
    if extra:
        return [f"{path}: unexpected keys {', '.join(sorted(map(str, extra)))}"]
    if fact in NUMBER_FACTS:
        if op not in NUMBER_OPS:
            return [f"{path}.op: '{op}' does not compare numbers (use one of {', '.join(NUMBER_OPS)})"]
        number = _number(value)
        if number is None:
            return [f"{path}.value: {NUMBER_FACTS[fact]} needs a number"]
        if number < 0:
            return [f"{path}.value: {NUMBER_FACTS[fact]} cannot be negative"]
        return []
    if fact in TEXT_FACTS:
        label, choices = TEXT_FACTS[fact]
        if op not in TEXT_OPS:
            return [f"{path}.op: '{op}' does not apply to {label.lower()} (use one of {', '.join(TEXT_OPS)})"]
        if op in ("in", "not_in") and (not isinstance(value, list) or not value):
            return [f"{path}.value: choose at least one value"]
        values = value if op in ("in", "not_in") else [value]
        unknown = [v for v in values if v not in choices]
        if unknown:
            return [f"{path}.value: {', '.join(map(str, unknown))} is not a valid choice for {label.lower()}"]
        return []
    return [f"{path}.fact: unknown fact '{fact}' (use one of {', '.join(FACT_LABELS)})"]


def _errors(node: Any, path: str, depth: int) -> list[str]:
    if depth > MAX_DEPTH:
        return [f"{path}: nested more than {MAX_DEPTH} levels deep"]
    if not isinstance(node, Mapping):
        return [f"{path}: a condition must be an object"]
    groups = [key for key in GROUPS if key in node]
    if not groups:
        if "fact" not in node:
            return [f"{path}: a condition needs 'fact', 'op' and 'value', or one of all/any/not"]
        return _leaf_errors(node, path)
    if len(node) != 1:
        return [f"{path}: a group has exactly one key (all, any or not)"]
    key = groups[0]
    if key == "not":
        return _errors(node["not"], f"{path}.not", depth + 1)
    children = node[key]
    if not isinstance(children, list) or not children:
        return [f"{path}.{key}: a group needs a non-empty list of conditions"]
    errors: list[str] = []
    for index, child in enumerate(children):
        errors.extend(_errors(child, f"{path}.{key}[{index}]", depth + 1))
    return errors


def condition_errors(condition: Any) -> list[str]:
    """Every problem with ``condition`` (empty when valid; ``{}`` and ``None`` are valid)."""
    if condition is None or condition == {}:
        return []
    return _errors(condition, "condition", 0)


def _holds(node: Mapping, facts: Mapping) -> bool:
    if "all" in node:
        return all(_holds(child, facts) for child in node["all"])
    if "any" in node:
        return any(_holds(child, facts) for child in node["any"])
    if "not" in node:
        return not _holds(node["not"], facts)
    name, op, value = node["fact"], node["op"], node["value"]
    if name not in facts:
        raise ConditionError(f"the fact '{name}' is missing")
    if name in NUMBER_FACTS:
        return NUMBER_OPS[op][1](_number(facts[name]), _number(value))
    return TEXT_OPS[op][1](facts[name], value)


def condition_holds(condition: Mapping | None, facts: Mapping) -> bool:
    """Whether ``condition`` holds for ``facts`` (the empty condition always holds). Raises
    ``ConditionError`` when the condition is invalid or a fact it reads is missing."""
    if not condition:
        return True
    errors = condition_errors(condition)
    if errors:
        raise ConditionError("; ".join(errors))
    return _holds(condition, facts)


def condition_describe(condition: Mapping[str, Any] | None) -> str:
    """The condition in words, for pages ("Open pipeline moved more than 250000 or ...")."""
    if not condition:
        return "always"
    if "all" in condition:
        return "(" + " and ".join(condition_describe(c) for c in condition["all"]) + ")"
    if "any" in condition:
        return "(" + " or ".join(condition_describe(c) for c in condition["any"]) + ")"
    if "not" in condition:
        return "not " + condition_describe(condition["not"])
    name: Any = condition.get("fact")
    op: Any = condition.get("op")
    value: Any = condition.get("value")
    if name in NUMBER_FACTS:
        return f"{NUMBER_FACTS[name].lower()} {NUMBER_OPS.get(op, (op,))[0]} {value}"
    label, choices = TEXT_FACTS.get(name, (str(name), {}))
    shown = ", ".join(str(choices.get(v, v)) for v in value) if isinstance(value, list) else choices.get(value, value)
    return f"{label.lower()} {TEXT_OPS.get(op, (op,))[0]} {shown}"
