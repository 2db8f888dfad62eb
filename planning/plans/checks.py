"""What must hold before a plan activates, as plain findings a page lists and activation refuses
on (unless the admin confirms the ones that may be confirmed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from routing import engine
from territories import coverage
from territories.models import Territory, TerritoryPlan

SHOWN = 20  # findings of one kind listed by name; the rest are counted


@dataclass(frozen=True)
class Problem:
    kind: str  # invalid_rule | no_primary
    message: str
    territory_id: int | None = None


def plan_problems(*, plan: TerritoryPlan, on: dt.date) -> list[Problem]:
    """Rules that no longer validate (the field or operator registry changed since they were
    written) and active, non-overlay territories without a primary on ``on``."""
    problems: list[Problem] = []
    for pk, code, rule in Territory.objects.filter(plan=plan).exclude(status=Territory.Status.INACTIVE) \
            .order_by("code").values_list("pk", "code", "rule"):
        try:
            engine.validate(rule or {})
        except engine.RuleError as exc:
            problems.append(Problem("invalid_rule", f"{code}: its rule no longer validates ({exc}).", pk))
    vacant = coverage.vacant_on(plan, on).filter(status=Territory.Status.ACTIVE, is_overlay=False)
    for pk, code, name in vacant.values_list("pk", "code", "name"):
        problems.append(Problem("no_primary", f"{code} {name} has no primary on {on:%d %b %Y}.", pk))
    return problems
