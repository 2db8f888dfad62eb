"""The engine's inputs and outputs: frozen, plain data, no Django.

``TerritorySpec``/``PlanSpec`` are what a service loads from the database for one plan;
``Decision`` is what resolving one record returns, with a trace that ``to_dict()`` turns into
JSON for ``AccountTerritory.trace``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .evaluate import Specificity

GEOGRAPHIC, NAMED_ACCOUNT, INDUSTRY, SIZE, HYBRID = "geographic", "named_account", "industry", "size", "hybrid"
TERRITORY_TYPES = (GEOGRAPHIC, NAMED_ACCOUNT, INDUSTRY, SIZE, HYBRID)
ACTIVE = "active"

# Evaluation order between candidates (DESIGN "Tiers"): named lists, hybrid rules, then rules on
# a single dimension. Lower tier number goes first.
TIER_NAMED, TIER_HYBRID, TIER_SINGLE = 0, 1, 2
TIER_NAMES = {TIER_NAMED: "named", TIER_HYBRID: "hybrid", TIER_SINGLE: "single"}


def tier_of(territory_type: str) -> int:
    if territory_type == NAMED_ACCOUNT:
        return TIER_NAMED
    if territory_type == HYBRID:
        return TIER_HYBRID
    return TIER_SINGLE


@dataclass(frozen=True, eq=True)
class TerritorySpec:
    id: int
    code: str
    parent_id: int | None = None
    type: str = GEOGRAPHIC
    priority: int = 0
    rule: Mapping[str, Any] = field(default_factory=dict)
    is_overlay: bool = False
    credit_percent: int = 100
    named_account_ids: frozenset[int] = frozenset()
    status: str = ACTIVE


@dataclass(frozen=True)
class PlanSpec:
    version: str | int
    territories: tuple[TerritorySpec, ...]


# Candidate outcomes in a trace.
WON = "won"
LOST = "lost"
ROLLUP = "rollup"  # an ancestor of a deeper match: the record rolls up to it, it does not own it
OVERLAY = "overlay"  # a matching overlay: adds a credit row, never competes


@dataclass(frozen=True, slots=True)
class CandidateTrace:
    territory_id: int
    code: str
    tier: str
    priority: int
    specificity: Specificity
    outcome: str
    reason: str
    is_overlay: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "territory_id": self.territory_id,
            "code": self.code,
            "tier": self.tier,
            "priority": self.priority,
            "specificity": self.specificity.to_dict(),
            "outcome": self.outcome,
            "reason": self.reason,
            "is_overlay": self.is_overlay,
        }


@dataclass(frozen=True, slots=True)
class RoutingTrace:
    plan_version: str | int
    candidates: tuple[CandidateTrace, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan_version": self.plan_version,
            "candidates": [c.to_dict() for c in self.candidates],
            "notes": list(self.notes),
        }


LOCK, NAMED, RULE = "lock", "named", "rule"


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one record goes. ``territory_id`` None: unassigned (the queue). ``overlays`` are
    ``(territory_id, credit_percent)`` rows, ordered by territory code."""

    territory_id: int | None
    source: str | None  # "lock", "named", "rule" or None when unassigned
    overlays: tuple[tuple[int, int], ...]
    conflict: bool
    trace: RoutingTrace
    # Every territory that matched (winners, losers, rolled-up ancestors, overlays), by id: with
    # the lock, all ``resolve.decide_matched`` needs to give this decision back.
    matched: tuple[int, ...] = ()

    @property
    def unassigned(self) -> bool:
        return self.territory_id is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "territory_id": self.territory_id,
            "source": self.source,
            "overlays": [list(o) for o in self.overlays],
            "conflict": self.conflict,
            "matched": list(self.matched),
            "trace": self.trace.to_dict(),
        }
