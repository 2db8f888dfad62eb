"""What a proposal would do, computed from the routing engine and the placement reads, never a
second implementation of routing:

* ``move_accounts``: the chosen accounts, from where ``territories.placement`` says they sit now to
  the target territory;
* ``merge``: the engine's dry run of locking every account of the merged territory (a leaf) to
  the receiving one (``_lock_preview``: their facts read as a re-route reads them, the lock set,
  resolved and diffed against their current rows, nothing written), which is what execution's
  ``routing.batch.accounts_lock_move`` then writes;
* ``rule_change`` and ``carve``: the dry run of the re-route the change would start
  (``routing.preview.territory_change_preview``: the engine against every competing territory,
  then the batch diff), so the accounts listed are exactly the ones the execution's re-route moves;
* ``slot_change``: no account changes territory; the territory's owner changes, and with it
  the owner of its open deals under the deal policy.

Open deals follow the proposal's deal policy (``deal_moves``: the one definition execution uses
too), pending activities (dated in the future) follow their deal, or the account when they have
none. ``Impact.to_json()`` is the snapshot approvers see; ``covered_hash()`` fingerprints what it
covers (each account with its current territory, each deal with owner, stage and amount), so
execution can tell whether it went stale; ``facts`` feeds the approval policy.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone

from planning.approvals.resolve import ApprovalFacts
from planning.models import DealDecision, DealPolicy, Reassignment
from planning.reassignments.ids import id_values
from planning.reassignments.snapshot import Deal, impact_summary
from routing.batch.changes import diff
from routing.batch.read import read_columns, read_current
from routing.engine import vector
from routing.preview import DRAFT_ID, TerritoryDraft, territory_change_preview
from routing.services import plan_index
from salesos.models import STAGE_ORDER, Activity, Opportunity
from salesos.roles import role_of
from territories import coverage
from territories.models import RepAssignment, Territory, TerritoryPlan
from territories.placement import current_primary_rows

User = get_user_model()
Kind = Reassignment.Kind
NEW_TERRITORY = DRAFT_ID  # the id a carved territory goes by until it exists


@dataclass(frozen=True)
class Impact:
    """See the module doc. Arrays are aligned: ``account_ids[i]`` goes from ``from_ids[i]`` to
    ``to_ids[i]`` (0: the unassigned queue; ``NEW_TERRITORY``: the carved territory)."""

    reassignment_id: int | None
    kind: str
    initiator_id: int
    initiator_role: str
    effective_date: dt.date
    account_ids: np.ndarray
    from_ids: np.ndarray
    to_ids: np.ndarray
    deals: tuple[Deal, ...]
    activities_pending: int
    activities_moving: int
    owners_before: Mapping[int, int | None]  # territory -> owner today
    owners_after: Mapping[int, int | None]  # territory -> owner on the effective date, after
    summary: Mapping[str, Any] = field(default_factory=dict)

    @property
    def moved_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def moving_deals(self) -> tuple[Deal, ...]:
        return tuple(d for d in self.deals if d.moves)

    @property
    def moved_pipeline(self) -> Decimal:
        return sum((d.amount for d in self.moving_deals), Decimal(0))

    @property
    def giving_territory_ids(self) -> frozenset[int]:
        return frozenset(int(t) for t in np.unique(self.from_ids).tolist() if t > 0) | frozenset(
            self.summary.get("owner_change_territories", ())
        )

    @property
    def receiving_territory_ids(self) -> frozenset[int]:
        return frozenset(int(t) for t in np.unique(self.to_ids).tolist() if t > 0) | frozenset(
            self.summary.get("owner_change_territories", ())
        )

    @property
    def facts(self) -> ApprovalFacts:
        return ApprovalFacts(
            kind=self.kind,
            initiator_id=self.initiator_id,
            initiator_role=self.initiator_role,
            giving_territory_ids=self.giving_territory_ids,
            receiving_territory_ids=self.receiving_territory_ids,
            moved_accounts=self.moved_accounts,
            moved_deals=len(self.moving_deals),
            moved_pipeline=self.moved_pipeline,
        )

    def covered_hash(self) -> str:
        """sha256 over what the proposal covers: each account with its current territory, each
        open deal with its owner, stage and amount (sorted, so the order of reading is moot)."""
        digest = hashlib.sha256()
        order = np.argsort(self.account_ids, kind="stable")
        pairs = np.stack([self.account_ids[order], self.from_ids[order]], axis=1).astype(np.int64)
        digest.update(pairs.tobytes())
        for d in sorted(self.deals, key=lambda d: d.id):
            digest.update(f"|{d.id}:{d.owner_id}:{d.stage}:{d.amount}".encode())
        return digest.hexdigest()

    def to_json(self) -> dict[str, Any]:
        return {**self.summary, "hash": self.covered_hash()}


# --- the deal policy: one definition, shared with execution --------------------------------------


def deal_moves(*, policy: str, threshold_stage: str, stage: str, choice: str | None) -> bool:
    """Whether an open deal changes hands under the policy. Stage-based: deals at or past the
    threshold stage stay with their rep, earlier ones move. Manual: the deal's own choice."""
    if policy == DealPolicy.FOLLOW_REP:
        return False
    if policy == DealPolicy.FOLLOW_TERRITORY:
        return True
    if policy == DealPolicy.STAGE_BASED:
        return STAGE_ORDER.get(stage, 0) < STAGE_ORDER.get(threshold_stage or Opportunity.Stage.PROPOSAL, 0)
    return choice == DealDecision.Choice.MOVE


# --- the moves -----------------------------------------------------------------------------------


def _current_of(plan_id: int, account_ids: Sequence[int]) -> dict[int, int]:
    """Where each account sits now (its current primary row in the plan: ``territories.placement``)."""
    found: dict[int, int] = {}
    for part in id_values(account_ids):
        rows = current_primary_rows(plan_id).filter(account_id__in=part)
        found.update(rows.values_list("account_id", "territory_id"))
    return found


Moves = tuple[np.ndarray, np.ndarray, np.ndarray]


def _explicit_moves(plan_id: int, account_ids: Sequence[int], to_id: int) -> Moves:
    ids = sorted(set(account_ids))
    where = _current_of(plan_id, ids)
    moving = [a for a in ids if where.get(a, 0) != to_id]
    return (
        np.asarray(moving, dtype=np.int64),
        np.asarray([where.get(a, 0) for a in moving], dtype=np.int64),
        np.full(len(moving), to_id, dtype=np.int64),
    )


def _draft_of(territory: Territory, **changes: Any) -> TerritoryDraft:
    values = {
        "pk": territory.pk,
        "code": territory.code,
        "parent_id": territory.parent_id,
        "type": territory.type,
        "priority": territory.priority,
        "rule": territory.rule or {},
        "is_overlay": territory.is_overlay,
        "credit_percent": territory.credit_percent,
        "named_account_ids": frozenset(territory.named_accounts.values_list("pk", flat=True)),
    }
    values.update(changes)
    return TerritoryDraft(**values)


def _preview_moves(reassignment: Reassignment) -> Moves:
    change = reassignment.change
    if reassignment.kind == Kind.RULE_CHANGE:
        territory = Territory.objects.get(pk=change["territory"])
        extra = {"rule": change.get("rule") or {}}
        if change.get("priority") is not None:
            extra["priority"] = int(change["priority"])
        draft = _draft_of(territory, **extra)
    else:  # carve: a new child of the parent
        draft = TerritoryDraft(
            pk=None,
            code=change["code"],
            parent_id=int(change["parent"]),
            type=change.get("type") or Territory.Type.HYBRID,
            rule=change.get("rule") or {},
        )
    preview = territory_change_preview(plan=reassignment.plan, draft=draft)
    moved = preview.before != preview.after
    return preview.account_ids[moved], preview.before[moved], preview.after[moved]


def _lock_preview(plan_id: int, account_ids: Sequence[int], to_id: int) -> Moves:
    """Where the engine puts these accounts once locked to ``to_id``, against where they sit now:
    the re-route's own steps (``routing.batch``: read the facts, resolve by the plan's compiled
    index, diff against the current rows), with the lock given instead of read; writes nothing."""
    ids = sorted(set(account_ids))
    plan = TerritoryPlan.objects.get(pk=plan_id)
    compiled = plan_index(plan=plan)
    vplan = vector.for_plan(compiled)
    cols = read_columns(vplan.fields, ids)
    cols.locks = np.full(len(cols), to_id, dtype=np.int64)
    work = diff(vector.route(vplan, cols), read_current(plan, compiled, cols, ids), len(cols))
    moved = work.old_primary != work.new_primary
    return np.asarray(cols.ids, dtype=np.int64)[moved], work.old_primary[moved], work.new_primary[moved]


def moves_of(reassignment: Reassignment) -> Moves:
    """(accounts, from, to) the proposal moves between territories, as ``Impact`` holds them."""
    change = reassignment.change or {}
    plan_id = reassignment.plan_id
    if reassignment.kind == Kind.MOVE_ACCOUNTS:
        return _explicit_moves(plan_id, change.get("accounts") or [], int(change["to_territory"]))
    if reassignment.kind == Kind.MERGE:
        ids = list(current_primary_rows(plan_id).filter(territory_id=change["territory"]).values_list(
            "account_id", flat=True))
        return _lock_preview(plan_id, ids, int(change["into"]))
    if reassignment.kind in (Kind.RULE_CHANGE, Kind.CARVE):
        return _preview_moves(reassignment)
    empty = np.zeros(0, dtype=np.int64)
    return empty, empty.copy(), empty.copy()


# --- owners --------------------------------------------------------------------------------------


def _owners_after(reassignment: Reassignment, territory_ids: set[int]) -> dict[int, int | None]:
    """Each territory's owner on the effective date once the change applies: the assignments in
    force then (``territories.coverage``), with the proposal's own slot change or carved primary."""
    on = reassignment.effective_date
    owners: dict[int, int | None] = dict(coverage.owner_ids_on(territory_ids=territory_ids - {NEW_TERRITORY}, on=on))
    change = reassignment.change or {}
    if reassignment.kind == Kind.SLOT_CHANGE and change.get("slot") == RepAssignment.Slot.PRIMARY:
        owners[int(change["territory"])] = change.get("to_user")
    if reassignment.kind == Kind.CARVE:
        owners[NEW_TERRITORY] = change.get("primary_user")
    return owners


# --- deals and activities ------------------------------------------------------------------------


def _deal_rows(account_ids: Sequence[int]) -> list[tuple[int, int, int | None, str, Decimal]]:
    rows: list[tuple[int, int, int | None, str, Decimal]] = []
    for part in id_values(account_ids):
        rows.extend(
            Opportunity.objects.filter(account_id__in=part, status=Opportunity.Status.OPEN)
            .order_by()
            .values_list("pk", "account_id", "owner_id", "stage", "amount")
        )
    return rows


def _deals(reassignment: Reassignment, account_ids: np.ndarray, to_ids: np.ndarray,
           owners_after: Mapping[int, int | None]) -> tuple[Deal, ...]:
    change = reassignment.change or {}
    choices = dict(DealDecision.objects.filter(reassignment_id=reassignment.pk).values_list(
        "opportunity_id", "choice")) if reassignment.pk and reassignment.deal_policy == DealPolicy.MANUAL else {}
    if reassignment.kind == Kind.SLOT_CHANGE:
        if change.get("slot") != RepAssignment.Slot.PRIMARY or not change.get("from_user"):
            return ()
        accounts = list(current_primary_rows(reassignment.plan_id).filter(territory_id=change["territory"])
                        .values_list("account_id", flat=True))
        new_owner = change.get("to_user")
        rows = [r for r in _deal_rows(accounts) if r[2] == change["from_user"]]
        target = dict.fromkeys((r[1] for r in rows), new_owner)
    else:
        rows = _deal_rows(account_ids.tolist())
        to_of = dict(zip(account_ids.tolist(), to_ids.tolist(), strict=True))
        target = {r[1]: owners_after.get(to_of[r[1]]) for r in rows}
    deals = []
    for pk, account_id, owner_id, stage, amount in rows:
        new_owner = target.get(account_id)
        moves = (
            new_owner is not None
            and new_owner != owner_id
            and deal_moves(policy=reassignment.deal_policy, threshold_stage=reassignment.deal_stage, stage=stage,
                           choice=choices.get(pk))
        )
        deals.append(Deal(pk, account_id, owner_id, stage, amount, moves, new_owner if moves else owner_id))
    deals.sort(key=lambda d: d.id)
    return tuple(deals)


def pending_activities(account_ids: Sequence[int], now: dt.datetime) -> list[tuple[int, int, int | None, int | None]]:
    """(activity, account, deal, user) of the activities dated after ``now`` on these accounts."""
    rows: list[tuple[int, int, int | None, int | None]] = []
    for part in id_values(account_ids):
        rows.extend(Activity.objects.filter(account_id__in=part, at__gt=now).order_by()
                    .values_list("pk", "account_id", "opportunity_id", "user_id"))
    return rows


def activity_targets(
    activities: Iterable[tuple[int, int, int | None, int | None]],
    deals: Iterable[Deal],
    account_owner_after: Mapping[int, int | None],
) -> dict[int, int]:
    """Activity -> its new user: an activity with a deal follows the deal (when the deal moves),
    one without follows its account to the account's new owner. Unchanged ones are left out."""
    deal_of = {d.id: d for d in deals}
    out: dict[int, int] = {}
    for pk, account_id, deal_id, user_id in activities:
        if deal_id is not None:
            deal = deal_of.get(deal_id)
            target = deal.new_owner_id if deal is not None and deal.moves else None
        else:
            target = account_owner_after.get(account_id)
        if target is not None and target != user_id:
            out[pk] = target
    return out


# --- the snapshot --------------------------------------------------------------------------------


def reassignment_impact(*, reassignment: Reassignment, now: dt.datetime | None = None,
                        with_summary: bool = True) -> Impact:
    """What ``reassignment`` would do if it executed now (see the module doc). Reads only.
    ``with_summary=False`` skips the per-territory and per-rep figures of the snapshot (execution
    needs the moves, the deals and the hash, not the figures)."""
    now = now or timezone.now()
    account_ids, from_ids, to_ids = moves_of(reassignment)
    change = reassignment.change or {}
    owner_change: set[int] = set()
    if reassignment.kind == Kind.SLOT_CHANGE and change.get("slot") == RepAssignment.Slot.PRIMARY:
        owner_change = {int(change["territory"])}
    touched = {int(t) for t in np.unique(np.concatenate([from_ids, to_ids])).tolist() if t} | owner_change
    owners_before = dict(coverage.owner_ids_on(territory_ids=touched - {NEW_TERRITORY}))
    owners_after = _owners_after(reassignment, touched)
    deals = _deals(reassignment, account_ids, to_ids, owners_after)
    if reassignment.kind == Kind.SLOT_CHANGE:
        activity_accounts = sorted({d.account_id for d in deals})
        account_owner_after: dict[int, int | None] = {}
    else:
        activity_accounts = account_ids.tolist()
        account_owner_after = {a: owners_after.get(t) for a, t in zip(account_ids.tolist(), to_ids.tolist(),
                                                                        strict=True)}
    activities = pending_activities(activity_accounts, now)
    moving_activities = activity_targets(activities, deals, account_owner_after)
    summary = impact_summary(reassignment, account_ids, from_ids, to_ids, deals,
                       {"pending": len(activities), "moving": len(moving_activities)},
                       owners_before, owners_after, owner_change) if with_summary else {
        "owner_change_territories": sorted(owner_change)}
    return Impact(
        reassignment_id=reassignment.pk,
        kind=reassignment.kind,
        initiator_id=reassignment.initiator_id,
        initiator_role=str(role_of(reassignment.initiator) or ""),
        effective_date=reassignment.effective_date,
        account_ids=account_ids,
        from_ids=from_ids,
        to_ids=to_ids,
        deals=deals,
        activities_pending=len(activities),
        activities_moving=len(moving_activities),
        owners_before=owners_before,
        owners_after=owners_after,
        summary=summary,
    )
