"""What saving one territory would move: a dry run of the re-route that the save starts.

The rule builder's "move in / move out" and the catch-all confirmation are not counts of rule
matches: a matching account can stay in a competing territory (a named list, a higher priority,
a more specific rule) and an account routed by hand can be taken. So the territory as the form
describes it replaces (or joins) the stored one in the plan's spec, and the same steps as
``routing.batch.plan_reroute`` run on the accounts the change can move (``scope_account_ids``
over the territory's subtree), with nothing written: the engine's resolution against every
competing territory, then ``batch.changes.diff`` against the current rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from routing import engine
from routing.batch.changes import diff
from routing.batch.read import MANUAL_CODE, read_columns, read_current
from routing.batch.scope import scope_account_ids
from routing.engine import vector
from routing.services import plan_spec
from territories.models import Territory, TerritoryPlan

DRAFT_ID = -1  # the id a territory that is not saved yet routes under (0 means "no territory")
WHOLE_TABLE_FROM = 5_000  # accounts in scope from which every account is read in one pass


@dataclass(frozen=True)
class TerritoryDraft:
    """A territory as the form describes it. ``pk`` None: a new one."""

    pk: int | None
    code: str
    parent_id: int | None
    type: str
    priority: int = 0
    rule: Any = None
    is_overlay: bool = False
    credit_percent: int = 100
    named_account_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ChangePreview:
    """Per account in scope: its primary territory before and after (0: none), and whether its
    current primary row was placed by hand."""

    territory_id: int
    subtree: frozenset[int]
    account_ids: np.ndarray
    before: np.ndarray
    after: np.ndarray
    by_hand: np.ndarray

    def _inside(self, territories: np.ndarray) -> np.ndarray:
        return np.isin(territories, np.fromiter(self.subtree, dtype=np.int64))

    @property
    def _in_mask(self) -> np.ndarray:
        return self._inside(self.after) & ~self._inside(self.before)

    def moving_in(self) -> list[int]:
        """Accounts whose primary territory moves into the territory or a territory under it."""
        return self.account_ids[self._in_mask].tolist()

    def moving_out(self) -> list[int]:
        return self.account_ids[self._inside(self.before) & ~self._inside(self.after)].tolist()

    def moving_in_from_queue(self) -> list[int]:
        """Of those moving in: accounts no territory holds today."""
        return self.account_ids[self._in_mask & (self.before == 0)].tolist()

    def moving_in_by_hand(self) -> list[int]:
        """Of those moving in: accounts someone routed by hand (their manual row is replaced)."""
        return self.account_ids[self._in_mask & (self.before != 0) & self.by_hand].tolist()


def _subtree(territories: Iterable[engine.TerritorySpec], root: int) -> frozenset[int]:
    children: dict[int | None, list[int]] = {}
    for t in territories:
        children.setdefault(t.parent_id, []).append(t.id)
    found: set[int] = set()
    stack = [root]
    while stack:
        t_id = stack.pop()
        if t_id not in found:
            found.add(t_id)
            stack.extend(children.get(t_id, ()))
    return frozenset(found)


def territory_change_preview(*, plan: TerritoryPlan, draft: TerritoryDraft) -> ChangePreview:
    """Where the accounts a save of ``draft`` can move would go, with the territory active (a
    draft is previewed as it would route once activated). Reads only; writes nothing. Raises
    ``engine.PlanError`` when the draft cannot sit in the plan (a parent inside itself)."""
    spec = plan_spec(plan=plan)
    t_id = draft.pk or DRAFT_ID
    mine = engine.TerritorySpec(
        id=t_id,
        code=draft.code,
        parent_id=draft.parent_id,
        type=draft.type,
        priority=draft.priority,
        rule=draft.rule or {},
        is_overlay=draft.is_overlay,
        credit_percent=draft.credit_percent,
        named_account_ids=frozenset(draft.named_account_ids),
        status=Territory.Status.ACTIVE.value,
    )
    # In code order, as ``plan_spec`` gives them: ties between equal candidates go by code.
    territories = tuple(sorted((*(t for t in spec.territories if t.id != t_id), mine), key=lambda t: t.code))
    # A fresh compiled plan (not the per-version cache, which must keep the stored plan).
    compiled = engine.PlanIndex.build(engine.PlanSpec(version=f"{spec.version}-preview", territories=territories))
    vplan = vector.VectorPlan(compiled)
    subtree = _subtree(territories, t_id)
    ids = scope_account_ids(plan=plan, compiled=compiled, territory_ids=sorted(subtree))
    # A wide scope (a catch-all takes every account) reads the whole table the fast way, as a
    # full re-route does, and keeps the scope's accounts afterwards.
    read_all = len(ids) > WHOLE_TABLE_FROM
    cols = read_columns(vplan.fields, None if read_all else ids)
    routed = vector.route(vplan, cols)
    current = read_current(plan, compiled, cols, None if read_all else ids)
    work = diff(routed, current, len(cols))
    by_hand = np.zeros(len(cols), dtype=bool)
    by_hand[current.row[current.primary & (current.source == MANUAL_CODE)]] = True
    account_ids = np.asarray(cols.ids, dtype=np.int64)
    keep = np.isin(account_ids, np.asarray(ids, dtype=np.int64)) if read_all else slice(None)
    return ChangePreview(
        territory_id=t_id,
        subtree=subtree,
        account_ids=account_ids[keep],
        before=work.old_primary[keep],
        after=work.new_primary[keep],
        by_hand=by_hand[keep],
    )
