"""The headline of a proposal's impact snapshot (``Reassignment.impact``, written on submit by
``planning.reassignments.impact``) as the inbox and the notifications show it. Read defensively:
a snapshot is stored JSON, and a proposal without one shows that it has none."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


def _number(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _name(side: Any) -> str:
    if isinstance(side, dict):
        code, name = side.get("code") or "", side.get("name") or ""
        return f"{code} · {name}" if code and name and code != name else (name or code or "Unassigned")
    return str(side) if side else "Unassigned"


@dataclass
class ImpactSummary:
    moved_accounts: int | None = None
    open_deals: int = 0
    moved_deals: int = 0
    moved_pipeline: Decimal = Decimal(0)
    open_pipeline: Decimal = Decimal(0)
    pairs: list[dict[str, Any]] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    territories: list[dict[str, Any]] = field(default_factory=list)
    activities: int = 0

    @property
    def known(self) -> bool:
        return self.moved_accounts is not None


def impact_summary(impact: Any) -> ImpactSummary:
    """Accounts moving, open deals (moving of all), pipeline moving, the from -> to pairs (up to
    8), deals by stage, and the giving and receiving territories before -> after."""
    if not isinstance(impact, dict) or _number(impact.get("accounts")) is None:
        return ImpactSummary()
    deals: dict[str, Any] = impact["deals"] if isinstance(impact.get("deals"), dict) else {}
    pairs = [p for p in impact.get("pairs") or [] if isinstance(p, dict)]
    activities: dict[str, Any] = impact["activities"] if isinstance(impact.get("activities"), dict) else {}
    return ImpactSummary(
        moved_accounts=int(_number(impact["accounts"]) or 0),
        open_deals=int(_number(deals.get("count")) or 0),
        moved_deals=int(_number(deals.get("moving")) or 0),
        moved_pipeline=_number(deals.get("moving_amount")) or Decimal(0),
        open_pipeline=_number(deals.get("amount")) or Decimal(0),
        pairs=[
            {"from": _name(p.get("from")), "to": _name(p.get("to")), "accounts": p.get("accounts", 0)}
            for p in pairs[:8]
        ],
        stages=[s for s in deals.get("by_stage") or [] if isinstance(s, dict)],
        territories=[t for t in impact.get("territories") or [] if isinstance(t, dict)][:12],
        activities=sum((int(_number(v) or 0) for v in activities.values()), 0),
    )
