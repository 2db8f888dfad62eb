"""What a proposal would do, computed from the routing engine and the placement reads, never a
second implementation of routing:

* ``move_accounts``: the chosen accounts, from where ``routing.placement`` says they sit now to
  the target territory;
* ``merge``: every account of the merged territory (a leaf) to the receiving one, the same way;
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
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Sum
from django.db.models.expressions import RawSQL
from django.utils import timezone

from planning.approvals.resolve import ApprovalFacts
from planning.models import DealDecision, DealPolicy, FiscalPeriod, Quota, Reassignment, covering
from routing.models import AccountTerritory
from routing.placement import current_primary_rows, territory_account_counts
from routing.preview import DRAFT_ID, TerritoryDraft, territory_change_preview
from salesos.models import STAGE_ORDER, Account, Activity, Opportunity, SalesProfile
from salesos.roles import role_of
from territories import coverage
from territories.models import RepAssignment, Territory
from territories.selectors import display_name, open_pipeline_of

User = get_user_model()
Kind = Reassignment.Kind
NEW_TERRITORY = DRAFT_ID  # the id a carved territory goes by until it exists


def _chunks(ids: Sequence[int]) -> Iterable[Any]:
    """The ids as values for an ``__in`` lookup: on PostgreSQL one array parameter (``unnest``),
    parsed once however long; elsewhere lists short enough for SQLite's parameter limit."""
    if connection.vendor == "postgresql":
        if len(ids):
            yield RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))
        return
    for start in range(0, len(ids), 5_000):
        yield list(ids[start : start + 5_000])


@dataclass(frozen=True)
class Deal:
    """One open deal on a moving account (or on the territory whose owner changes)."""

    id: int
    account_id: int
    owner_id: int | None
    stage: str
    amount: Decimal
    moves: bool  # changes hands under the policy
    new_owner_id: int | None  # its owner after execution


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
    """Where each account sits now (its current primary row in the plan: ``routing.placement``)."""
    found: dict[int, int] = {}
    for part in _chunks(account_ids):
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


def moves_of(reassignment: Reassignment) -> Moves:
    """(accounts, from, to) the proposal moves between territories, as ``Impact`` holds them."""
    change = reassignment.change or {}
    plan_id = reassignment.plan_id
    if reassignment.kind == Kind.MOVE_ACCOUNTS:
        return _explicit_moves(plan_id, change.get("accounts") or [], int(change["to_territory"]))
    if reassignment.kind == Kind.MERGE:
        ids = list(current_primary_rows(plan_id).filter(territory_id=change["territory"]).values_list(
            "account_id", flat=True))
        return _explicit_moves(plan_id, ids, int(change["into"]))
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
    for part in _chunks(account_ids):
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
    for part in _chunks(account_ids):
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


def _person_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    return {
        pk: display_name(first, last, username)
        for pk, first, last, username in User.objects.filter(pk__in=wanted).values_list(
            "pk", "first_name", "last_name", "username")
    }


def _money(value: Decimal | int | float) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def _summary(reassignment: Reassignment, account_ids: np.ndarray, from_ids: np.ndarray, to_ids: np.ndarray,
             deals: tuple[Deal, ...], activities: Mapping[str, int], owners_before: Mapping[int, int | None],
             owners_after: Mapping[int, int | None], owner_change: set[int]) -> dict[str, Any]:
    touched = {int(t) for t in np.unique(np.concatenate([from_ids, to_ids])).tolist() if t} | owner_change
    existing = touched - {NEW_TERRITORY}
    territories = {
        t.pk: t for t in Territory.objects.filter(pk__in=existing).annotate(pipeline=open_pipeline_of())
    }
    change = reassignment.change or {}

    def label(t_id: int) -> dict[str, Any]:
        if t_id == 0:
            return {"id": None, "code": "", "name": "Unassigned"}
        if t_id == NEW_TERRITORY:
            return {"id": None, "code": change.get("code", ""), "name": change.get("name", "New territory")}
        t = territories.get(t_id)
        return {"id": t_id, "code": t.code if t else str(t_id), "name": t.name if t else ""}

    pairs: dict[tuple[int, int], int] = defaultdict(int)
    for f, t in zip(from_ids.tolist(), to_ids.tolist(), strict=True):
        pairs[(f, t)] += 1
    pair_rows = [
        {"from": label(f), "to": label(t), "accounts": n}
        for (f, t), n in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))
    ]

    by_stage: dict[str, dict[str, Any]] = {}
    for d in deals:
        row = by_stage.setdefault(d.stage, {"count": 0, "amount": Decimal(0), "moving": 0, "moving_amount": Decimal(0)})
        row["count"] += 1
        row["amount"] += d.amount
        if d.moves:
            row["moving"] += 1
            row["moving_amount"] += d.amount
    stages = [
        {"stage": s, "label": Opportunity.Stage(s).label, "count": r["count"], "amount": _money(r["amount"]),
         "moving": r["moving"], "moving_amount": _money(r["moving_amount"])}
        for s, r in sorted(by_stage.items(), key=lambda item: STAGE_ORDER.get(item[0], 0))
    ]

    # Per territory before -> after: accounts, open pipeline (deals on its accounts), TAM, quota.
    counts = territory_account_counts(existing)
    deal_of_account: dict[int, Decimal] = defaultdict(Decimal)
    for d in deals:
        deal_of_account[d.account_id] += d.amount
    potential = _potentials(account_ids.tolist())
    tam_before = _tam(existing)
    delta_accounts: dict[int, int] = defaultdict(int)
    delta_pipeline: dict[int, Decimal] = defaultdict(Decimal)
    delta_tam: dict[int, Decimal] = defaultdict(Decimal)
    for a, f, t in zip(account_ids.tolist(), from_ids.tolist(), to_ids.tolist(), strict=True):
        amount, tam = deal_of_account.get(a, Decimal(0)), potential.get(a, Decimal(0))
        for t_id, sign in ((f, -1), (t, 1)):
            if t_id:
                delta_accounts[t_id] += sign
                delta_pipeline[t_id] += sign * amount
                delta_tam[t_id] += sign * tam
    quotas = _quotas(existing, reassignment.effective_date)
    capacity = _capacities({*owners_before.values(), *owners_after.values()})
    names = _person_names([*owners_before.values(), *owners_after.values(), *(d.owner_id for d in deals),
                           *(d.new_owner_id for d in deals)])
    territory_rows = []
    for t_id in sorted(touched, key=lambda t: (t == NEW_TERRITORY, label(t)["code"])):
        t = territories.get(t_id)
        before = counts.get(t_id, 0)
        after = before + delta_accounts.get(t_id, 0)
        pipeline = t.pipeline if t is not None else Decimal(0)
        owner_b, owner_a = owners_before.get(t_id), owners_after.get(t_id)
        cap_b, cap_a = capacity.get(owner_b or 0), capacity.get(owner_a or 0)
        territory_rows.append({
            **label(t_id),
            "role": "giving" if delta_accounts.get(t_id, 0) < 0 else "receiving" if delta_accounts.get(t_id, 0) > 0
            else "owner change",
            "accounts": [before, after],
            "pipeline": [_money(pipeline), _money(pipeline + delta_pipeline.get(t_id, Decimal(0)))],
            "tam": [_money(tam_before.get(t_id, Decimal(0))),
                    _money(tam_before.get(t_id, Decimal(0)) + delta_tam.get(t_id, Decimal(0)))],
            "quota": _money(quotas[t_id]) if t_id in quotas else None,
            "owner": [names.get(owner_b or 0, ""), names.get(owner_a or 0, "")],
            "capacity_used": [_percent(before, cap_b), _percent(after, cap_a)],
        })

    reps: dict[int, dict[str, Any]] = {}
    for d in deals:
        for user_id, sign in ((d.owner_id, -1), (d.new_owner_id, 1)):
            if user_id and d.moves:
                row = reps.setdefault(user_id, {"id": user_id, "name": names.get(user_id, ""), "deals": 0,
                                                "pipeline": Decimal(0)})
                row["deals"] += sign
                row["pipeline"] += sign * d.amount
    # A person's accounts: they lose the territories they stop owning, gain the ones they start
    # owning, and the moves in between (the same person before and after nets to the moves).
    rep_accounts: dict[int, int] = defaultdict(int)
    for t_id in touched:
        before = counts.get(t_id, 0)
        after = before + delta_accounts.get(t_id, 0)
        owner_b, owner_a = owners_before.get(t_id), owners_after.get(t_id)
        if owner_b:
            rep_accounts[owner_b] -= before
        if owner_a:
            rep_accounts[owner_a] += after
    for user_id, n in rep_accounts.items():
        row = reps.setdefault(user_id, {"id": user_id, "name": names.get(user_id, ""), "deals": 0,
                                        "pipeline": Decimal(0)})
        row["accounts"] = n
    rep_rows = [
        {**row, "accounts": row.get("accounts", 0), "pipeline": _money(row["pipeline"])}
        for row in sorted(reps.values(), key=lambda r: r["name"])
    ]
    moving = [d for d in deals if d.moves]
    return {
        "kind": reassignment.kind,
        "effective_date": reassignment.effective_date.isoformat(),
        "computed_at": timezone.now().isoformat(),
        "accounts": len(account_ids),
        "pairs": pair_rows,
        "deals": {
            "count": len(deals),
            "amount": _money(sum((d.amount for d in deals), Decimal(0))),
            "moving": len(moving),
            "moving_amount": _money(sum((d.amount for d in moving), Decimal(0))),
            "staying": len(deals) - len(moving),
            "policy": reassignment.deal_policy,
            "threshold_stage": reassignment.deal_stage,
            "by_stage": stages,
        },
        "activities": dict(activities),
        "territories": territory_rows,
        "reps": rep_rows,
        "owner_change_territories": sorted(owner_change),
    }


def _percent(used: int, capacity: int | None) -> int | None:
    return round(100 * used / capacity) if capacity else None


def _potentials(account_ids: Sequence[int]) -> dict[int, Decimal]:
    found: dict[int, Decimal] = {}
    for part in _chunks(account_ids):
        rows = Account.objects.filter(pk__in=part).values_list("pk", "potential")
        found.update((pk, v or Decimal(0)) for pk, v in rows)
    return found


def _tam(territory_ids: set[int]) -> dict[int, Decimal]:
    rows = (
        AccountTerritory.objects.filter(
            territory_id__in=territory_ids, is_primary=True, valid_to__isnull=True
        )
        .order_by()
        .values("territory_id")
        .annotate(tam=Sum("account__potential"))
        .values_list("territory_id", "tam")
    )
    return {t: v or Decimal(0) for t, v in rows}


def _quotas(territory_ids: set[int], on: dt.date) -> dict[int, Decimal]:
    periods = FiscalPeriod.objects.filter(covering(on), kind=FiscalPeriod.Kind.QUARTER)
    rows = Quota.objects.filter(territory_id__in=territory_ids, period__in=periods)
    return dict(rows.values_list("territory_id", "amount"))


def _capacities(user_ids: Iterable[int | None]) -> dict[int, int]:
    wanted = {u for u in user_ids if u}
    return dict(SalesProfile.objects.filter(user_id__in=wanted).values_list("user_id", "capacity_accounts"))


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
    summary = _summary(reassignment, account_ids, from_ids, to_ids, deals,
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
