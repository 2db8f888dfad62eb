"""Reads the policy page's posted fields into ``PolicyInput`` and renders a stored policy back as
the page's rows. A condition is edited as "all/any of" up to ``CONDITION_ROWS`` rows (fact,
operator, value); a stored condition with nested groups is kept as it is unless rows are filled."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import QueryDict

from planning.approvals.conditions import FACT_LABELS, NUMBER_FACTS, NUMBER_OPS, TEXT_FACTS, TEXT_OPS
from planning.approvals.policies import PolicyInput, StepInput
from planning.models import ApprovalPolicy, ApprovalPolicyStep

CONDITION_ROWS = 3
OPERATORS = [(op, f"{label} ({op})") for op, (label, _) in {**NUMBER_OPS, **TEXT_OPS}.items()]


@dataclass
class ConditionRows:
    prefix: str
    join: str = "all"
    rows: list[dict[str, str]] = field(default_factory=list)
    kept: str = ""  # a nested condition kept as JSON

    @classmethod
    def of(cls, prefix: str, condition: dict | None) -> ConditionRows:
        rows: list[dict[str, str]] = []
        join, kept = "all", ""
        if condition:
            leaves = None
            if "fact" in condition:
                leaves = [condition]
            elif len(condition) == 1 and next(iter(condition)) in ("all", "any"):
                join = next(iter(condition))
                children = condition[join]
                if isinstance(children, list) and all(isinstance(c, dict) and "fact" in c for c in children):
                    leaves = children
            if leaves is None:
                kept = json.dumps(condition)
            else:
                for leaf in leaves[:CONDITION_ROWS]:
                    value = leaf.get("value")
                    shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
                    rows.append({"fact": str(leaf.get("fact", "")), "op": str(leaf.get("op", "")), "value": shown})
        while len(rows) < CONDITION_ROWS:
            rows.append({"fact": "", "op": "", "value": ""})
        return cls(prefix=prefix, join=join, rows=rows, kept=kept)


@dataclass
class StepRow:
    key: str
    name: str = ""
    relation: str = ApprovalPolicyStep.Relation.OUTGOING_MANAGER
    user_id: int | None = None
    mode: str = ApprovalPolicyStep.Mode.ALL
    condition: ConditionRows = field(default_factory=lambda: ConditionRows.of("", None))
    errors: list[str] = field(default_factory=list)


def _value(fact: str, op: str, text: str) -> Any:
    text = text.strip()
    if fact in NUMBER_FACTS:
        try:
            number = Decimal(text.replace(",", "").replace("$", ""))
        except InvalidOperation:
            return text
        return int(number) if number == number.to_integral_value() else float(number)
    if op in ("in", "not_in"):
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def condition_from_post(post: QueryDict, prefix: str) -> dict[str, Any]:
    facts, ops, values = (post.getlist(f"{prefix}-{name}") for name in ("fact", "op", "value"))
    leaves = [
        {"fact": fact, "op": op, "value": _value(fact, op, value)}
        for fact, op, value in zip(facts, ops, values, strict=False)
        if fact or op or value.strip()
    ][:CONDITION_ROWS]
    if not leaves:
        kept = post.get(f"{prefix}-kept", "")
        try:
            loaded = json.loads(kept) if kept else {}
        except ValueError:
            loaded = {"invalid": kept}
        return loaded if isinstance(loaded, dict) else {"invalid": kept}
    if len(leaves) == 1:
        return leaves[0]
    join = post.get(f"{prefix}-join", "all")
    return {join if join in ("all", "any") else "all": leaves}


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def policy_from_post(post: QueryDict) -> tuple[PolicyInput, list[StepRow]]:
    """The posted policy, and its steps as rows to show again (deleted ones left out)."""
    steps: list[StepInput] = []
    rows: list[StepRow] = []
    for key in post.getlist("step"):
        if not key.replace("-", "").isalnum() or post.get(f"s-{key}-delete"):
            continue
        condition = condition_from_post(post, f"s-{key}-c")
        step = StepInput(
            name=post.get(f"s-{key}-name", "").strip(),
            relation=post.get(f"s-{key}-relation", ""),
            mode=post.get(f"s-{key}-mode", ""),
            user_id=_int(post.get(f"s-{key}-user")),
            condition=condition,
        )
        steps.append(step)
        rows.append(
            StepRow(
                key=key,
                name=step.name,
                relation=step.relation,
                user_id=step.user_id,
                mode=step.mode,
                condition=ConditionRows.of(f"s-{key}-c", condition if "invalid" not in condition else {}),
            )
        )
    for number, row in enumerate(rows, 1):
        row.condition.prefix = f"s-{row.key}-c"
        row.key = row.key or str(number)
    data = PolicyInput(
        name=post.get("name", ""),
        description=post.get("description", "")[:2000],
        kinds=post.getlist("kinds"),
        condition=condition_from_post(post, "pc"),
        is_active=bool(post.get("is_active")),
        allow_admin_self_approval=bool(post.get("allow_admin_self_approval")),
        steps=steps,
    )
    return data, rows


def step_rows(policy: ApprovalPolicy) -> list[StepRow]:
    return [
        StepRow(
            key=str(step.pk),
            name=step.name,
            relation=step.relation,
            user_id=step.user_id,
            mode=step.mode,
            condition=ConditionRows.of(f"s-{step.pk}-c", step.condition),
        )
        for step in policy.steps.all().order_by("order", "id")
    ]


def fact_choices() -> list[tuple[str, str]]:
    return list(FACT_LABELS.items())


def value_hint() -> str:
    parts = [f"{name}: " + ", ".join(choices) for name, (_, choices) in TEXT_FACTS.items()]
    return "Numbers for counts and pipeline; for " + "; ".join(parts) + " (comma-separated for “is one of”)."
