"""Drag-to-adjust on the map: a rectangle drawn over accounts becomes a reassignment proposal
(``planning.reassignments``: kind "move accounts") on the active plan, after a preview of its
impact (that module's ``reassignment_impact``, the one impact computation). Nothing here writes:
the proposal is created by ``reassignment_propose`` as a draft, and only its approval and
execution change the plan; the active plan is never edited from the map.

The selection is every account in the rectangle that the map shows the user (its scope and
filters), sitting in a territory the user may propose on (``proposable_territories``; the
unassigned ones for those who work the queue), and not already in the destination.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import shapely
from django.utils import timezone
from shapely.geometry.base import BaseGeometry

from analytics.map_points import Viewport, mask_of, point_table
from analytics.map_selectors import MapQuery, _point_filter, map_scope
from planning.models import Reassignment, ReassignmentSettings
from planning.reassignments.access import may_propose, proposable_territories
from planning.reassignments.changes import change_validate
from planning.reassignments.errors import ReassignmentError
from planning.reassignments.impact import reassignment_impact
from planning.reassignments.services import reassignment_propose
from salesos.roles import works_queue
from territories.models import Territory

Kind = Reassignment.Kind


@dataclass
class AdjustPreview:
    account_ids: list[int]
    targets: list[Territory]
    to_territory: Territory | None = None
    problems: dict[str, list[str]] = field(default_factory=dict)
    moved_accounts: int = 0
    moving_deals: int = 0
    moving_pipeline: Decimal = Decimal(0)
    from_counts: list[tuple[str, int]] = field(default_factory=list)


def adjust_allowed(user) -> bool:
    return may_propose(user)


def adjust_selection(*, user, query: MapQuery, view: Viewport, lasso: BaseGeometry | None = None) -> list[int]:
    """The accounts in the rectangle (or inside the ``lasso``) the user may move (ids, ascending)."""
    scope = map_scope(user)
    if scope.plan is None or not may_propose(user):
        return []
    table = point_table(scope.plan)
    if lasso is not None:
        west, south, east, north = lasso.bounds
        view = Viewport(west, south, east, north, zoom=view.zoom)
    mask = mask_of(table, _point_filter(scope, query)) & view.mask(table)
    if lasso is not None:
        rows = np.flatnonzero(mask)
        mask[rows[~shapely.contains_xy(lasso, table.lon[rows], table.lat[rows])]] = False
    movable = np.fromiter(proposable_territories(user, scope.plan).values_list("pk", flat=True), dtype=np.int64)
    allowed = np.isin(table.territory, movable)
    if works_queue(user):
        allowed |= table.territory < 0
    return sorted(int(i) for i in table.ids[mask & allowed])


def adjust_preview(*, user, account_ids: list[int], to_territory: int | None) -> AdjustPreview:
    """What moving ``account_ids`` into ``to_territory`` would do, or what is wrong with it."""
    scope = map_scope(user)
    targets = list(proposable_territories(user, scope.plan).order_by("code"))
    preview = AdjustPreview(account_ids=account_ids, targets=targets)
    if not account_ids:
        preview.problems["accounts"] = ["No account you may move is inside the selection."]
        return preview
    if to_territory is None or scope.plan is None:
        return preview
    preview.to_territory = next((t for t in targets if t.pk == to_territory), None)
    change, problems = change_validate(by=user, plan=scope.plan, kind=Kind.MOVE_ACCOUNTS,
                                       change={"accounts": account_ids, "to_territory": to_territory})
    preview.problems.update(problems)
    if any(preview.problems.values()):
        return preview
    defaults = ReassignmentSettings.load()
    unsaved = Reassignment(plan=scope.plan, kind=Kind.MOVE_ACCOUNTS, change=change, initiator=user,
                           effective_date=timezone.localdate(), deal_policy=defaults.deal_policy,
                           deal_stage=defaults.deal_stage, transition_days=defaults.transition_days)
    impact = reassignment_impact(reassignment=unsaved)
    preview.moved_accounts = impact.moved_accounts
    moving = impact.moving_deals
    preview.moving_deals = len(moving)
    preview.moving_pipeline = sum((d.amount for d in moving), Decimal(0))
    codes = dict(Territory.objects.filter(pk__in=set(impact.from_ids.tolist())).values_list("pk", "name"))
    found, counts = np.unique(impact.from_ids, return_counts=True)
    preview.from_counts = [(codes.get(int(t), "Unassigned"), int(n)) for t, n in zip(found, counts, strict=True)]
    return preview


def adjust_propose(*, user, account_ids: list[int], to_territory: int, effective_date: dt.date,
                   reason: str) -> Reassignment:
    """A draft proposal moving the accounts (raises ``ReassignmentError`` with messages)."""
    plan = map_scope(user).plan
    if plan is None:
        raise ReassignmentError("There is no active plan to propose a change on.")
    return reassignment_propose(by=user, plan=plan, kind=Kind.MOVE_ACCOUNTS,
                                change={"accounts": account_ids, "to_territory": to_territory},
                                reason=reason, effective_date=effective_date)


def preview_figures(preview: AdjustPreview) -> dict[str, Any]:
    return {"accounts": len(preview.account_ids), "moved": preview.moved_accounts, "deals": preview.moving_deals,
            "pipeline": preview.moving_pipeline}
