"""The impact snapshot approvers see: accounts per from -> to pair, open deals by stage, and per
giving and receiving territory and rep, before -> after: accounts, open pipeline, TAM, quota,
capacity used. Built from the moves and deals ``impact`` computed; reads only figures. ``Deal`` is
the shape of one open deal in them (``impact`` makes them, this module sums them)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone

from planning.models import FiscalPeriod, Quota, Reassignment, covering
from planning.reassignments.ids import id_values
from routing.preview import DRAFT_ID
from salesos.models import STAGE_ORDER, Account, Opportunity, SalesProfile
from territories.models import AccountTerritory, Territory
from territories.placement import territory_account_counts
from territories.selectors import display_name, open_pipeline_of

User = get_user_model()
NEW_TERRITORY = DRAFT_ID


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


def _person_names(ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i}
    return {
        pk: display_name(first, last, username)
        for pk, first, last, username in User.objects.filter(pk__in=wanted).values_list(
            "pk", "first_name", "last_name", "username")
    }


def _money(value: Decimal | int | float) -> str:
    return str(Decimal(value).quantize(Decimal("0.01")))


def impact_summary(reassignment: Reassignment, account_ids: np.ndarray, from_ids: np.ndarray, to_ids: np.ndarray,
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

    # Accounts per from -> to pair, and each moved account's pair (the deltas below go by pair).
    pair_keys, pair_of = np.unique(np.stack([from_ids, to_ids], axis=1).reshape(-1, 2), axis=0, return_inverse=True)
    pair_of = pair_of.reshape(-1)
    pair_counts = np.bincount(pair_of, minlength=len(pair_keys))
    pairs = {(int(f), int(t)): int(n) for (f, t), n in zip(pair_keys.tolist(), pair_counts.tolist(), strict=True)}
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
    # Summed per pair first (in cents, exactly), then each pair's sums leave its giving territory
    # and reach its receiving one.
    counts = territory_account_counts(existing)
    position = {a: i for i, a in enumerate(account_ids.tolist())}
    pipeline_cents = np.zeros(len(pair_keys), dtype=np.int64)
    for d in deals:
        i = position.get(d.account_id)
        if i is not None:
            pipeline_cents[pair_of[i]] += _cents(d.amount)
    tam_cents = np.zeros(len(pair_keys), dtype=np.int64)
    for a, value in _potentials(account_ids.tolist()).items():
        tam_cents[pair_of[position[a]]] += _cents(value)
    tam_before = _tam(existing)
    delta_accounts: dict[int, int] = defaultdict(int)
    delta_pipeline: dict[int, Decimal] = defaultdict(Decimal)
    delta_tam: dict[int, Decimal] = defaultdict(Decimal)
    for (f, t), n, amount, tam in zip(pair_keys.tolist(), pair_counts.tolist(), pipeline_cents.tolist(),
                                      tam_cents.tolist(), strict=True):
        for t_id, sign in ((f, -1), (t, 1)):
            if t_id:
                delta_accounts[t_id] += sign * n
                delta_pipeline[t_id] += sign * Decimal(amount) / 100
                delta_tam[t_id] += sign * Decimal(tam) / 100
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
    rep_accounts = _rep_account_changes(reassignment, pairs, counts, owners_after, owner_change)
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


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def _rep_account_changes(reassignment: Reassignment, pairs: Mapping[tuple[int, int], int],
                         counts: Mapping[int, int], owners_after: Mapping[int, int | None],
                         owner_change: set[int]) -> dict[int, int]:
    """Each person's gain or loss of accounts through this proposal alone, with owners on the
    effective date (``owners_after``: ``territories.coverage`` on that date): every moved account
    leaves its giving territory's owner and joins its receiving territory's owner (the same person
    on both sides nets to nothing); a rep change hands the territory's accounts from the outgoing
    rep to the incoming one. An owner change that is not the proposal's (a leave starting or
    ending, a slot already dated) moves nobody's accounts here."""
    changes: dict[int, int] = defaultdict(int)
    for (f, t), n in pairs.items():
        giver, taker = owners_after.get(f) if f else None, owners_after.get(t) if t else None
        if giver == taker:
            continue
        if giver:
            changes[giver] -= n
        if taker:
            changes[taker] += n
    change = reassignment.change or {}
    for t_id in owner_change:
        giver, taker = change.get("from_user"), change.get("to_user")
        held = counts.get(t_id, 0)
        if giver:
            changes[int(giver)] -= held
        if taker:
            changes[int(taker)] += held
    return {user_id: n for user_id, n in changes.items() if n}


def _percent(used: int, capacity: int | None) -> int | None:
    return round(100 * used / capacity) if capacity else None


def _potentials(account_ids: Sequence[int]) -> dict[int, Decimal]:
    found: dict[int, Decimal] = {}
    for part in id_values(account_ids):
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
