"""Executing an approved proposal on its effective date: all or nothing, idempotent, resumable.

One proposal is one transaction. Inside it, the proposal's row is locked, the impact is computed
again and its hash compared with the one approved: if what it covers changed (an account moved
meanwhile, a deal changed owner, stage or amount), nothing is applied and the proposal goes back
for re-approval ("stale") with the difference. Otherwise the change applies, set-based:

* accounts: an explicit move (a list of accounts, or a merge) locks each moved account to its new
  territory (``territories.AccountLock``, so later re-routes keep them) and moves its primary
  row there set-based (``routing.batch.accounts_lock_move``: the row and decision the engine
  gives a locked account, without re-routing); a rule change goes through ``territories.services``
  and the scoped re-route ``routing.batch.plan_reroute``; a carve creates the territory through
  ``territories.services`` first;
* rep assignments: the outgoing rep's slot ends the day before the effective date, the incoming
  rep's starts on it (``territories.services``, which refreshes the grants);
* open deals: the owners the impact's ``deal_moves`` decided, one ``UPDATE ... FROM`` and one
  ``INSERT ... SELECT`` of ``DealOwnerChange`` rows; pending activities follow (``activity_targets``);
* the moves are marked done, the proposal moves to "in transition" (with a window) or "done".

A failure anywhere rolls the whole proposal back: nothing is half-moved, the proposal stays
scheduled with the failure noted, and the next run starts it again. A second run of an executed
proposal changes nothing.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from planning.approvals.services import approval_round_close
from planning.models import CustomerNotice, DealOwnerChange, Reassignment, ReassignmentMove
from planning.notify import reassignment_notify
from planning.reassignments.ids import array_text
from planning.reassignments.impact import (
    Impact,
    activity_targets,
    pending_activities,
    reassignment_impact,
)
from planning.reassignments.transition import window_last_day
from routing.batch import accounts_lock_move, plan_reroute
from salesos.models import Account, Activity, Opportunity
from territories import coverage
from territories.models import RepAssignment, Territory
from territories.services import assignment_add, assignment_end, territory_create, territory_update

User = get_user_model()
Kind = Reassignment.Kind
Status = Reassignment.Status
ID_CHUNK = 5_000


@dataclass
class ExecuteResult:
    reassignment_id: int
    outcome: str  # executed | stale | not_due | nothing_to_do | failed
    moved_accounts: int = 0
    moved_deals: int = 0
    moved_activities: int = 0
    message: str = ""
    seconds: dict[str, float] = field(default_factory=dict)


class _Stale(Exception):
    def __init__(self, difference: dict[str, Any]):
        super().__init__("stale")
        self.difference = difference


def _today() -> dt.date:
    return timezone.localdate()


# --- staleness -------------------------------------------------------------------------------------


def _difference(reassignment: Reassignment, impact: Impact) -> dict[str, Any]:
    """What changed since approval, for the proposal page: accounts added to or gone from the
    moves, accounts now sitting elsewhere, and the open deals before and now."""
    frozen = {a: (f or 0) for a, f in reassignment.moves.values_list("account_id", "from_territory_id")}
    now = dict(zip(impact.account_ids.tolist(), impact.from_ids.tolist(), strict=True))
    added = sorted(set(now) - set(frozen))
    gone = sorted(set(frozen) - set(now))
    elsewhere = sorted(a for a in set(now) & set(frozen) if now[a] != frozen[a])
    names = dict(Account.objects.filter(pk__in=[*added[:20], *gone[:20], *elsewhere[:20]]).values_list("pk", "name"))
    snapshot = reassignment.impact or {}
    deals_then = snapshot.get("deals", {})
    amount = sum((d.amount for d in impact.deals), Decimal(0)).quantize(Decimal("0.01"))
    deals_now = {"count": len(impact.deals), "amount": str(amount), "moving": len(impact.moving_deals)}

    def listed(ids: Sequence[int]) -> dict[str, Any]:
        return {"count": len(ids), "sample": [{"id": a, "name": names.get(a, "")} for a in ids[:20]]}

    return {
        "accounts_added": listed(added),
        "accounts_gone": listed(gone),
        "accounts_moved_elsewhere": listed(elsewhere),
        "accounts": [snapshot.get("accounts", len(frozen)), impact.moved_accounts],
        "deals": [deals_then.get("count"), deals_now["count"]],
        "deal_amount": [deals_then.get("amount"), deals_now["amount"]],
        "moving_deals": [deals_then.get("moving"), deals_now["moving"]],
    }


def _targets_active(reassignment: Reassignment, impact: Impact) -> dict[str, Any] | None:
    wanted = {int(t) for t in np.unique(impact.to_ids).tolist() if t > 0}
    retired = list(Territory.objects.filter(pk__in=wanted).exclude(status=Territory.Status.ACTIVE)
                   .values_list("code", flat=True))
    return {"retired_targets": retired} if retired else None


# --- the writes ------------------------------------------------------------------------------------


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    return [list(ids[i : i + ID_CHUNK]) for i in range(0, len(ids), ID_CHUNK)]


def _update_owners(model: Any, column: str, targets: Mapping[int, int], extra: Mapping[int, int] | None = None) -> None:
    """Sets ``column`` per row (id -> user) in one statement on PostgreSQL (``UPDATE ... FROM
    unnest``), grouped by value elsewhere. ``extra``: id -> territory for deals."""
    if not targets:
        return
    ids = list(targets)
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        values = [targets[i] for i in ids]
        with connection.cursor() as cursor:
            if extra is not None:
                cursor.execute(
                    f"UPDATE {table} AS t SET {column} = v.owner, "  # noqa: S608
                    "territory_id = COALESCE(v.territory, t.territory_id) "
                    "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(id, owner, territory) "
                    "WHERE t.id = v.id",
                    [array_text(ids), array_text(values), array_text([extra.get(i) for i in ids])],
                )
            else:
                cursor.execute(
                    f"UPDATE {table} AS t SET {column} = v.owner "  # noqa: S608
                    "FROM unnest(%s::bigint[], %s::bigint[]) AS v(id, owner) WHERE t.id = v.id",
                    [array_text(ids), array_text(values)],
                )
        return
    groups: dict[tuple[int, int | None], list[int]] = defaultdict(list)
    for i in ids:
        groups[(targets[i], (extra or {}).get(i))].append(i)
    for (owner, territory), members in groups.items():
        for part in _chunks(members):
            changes: dict[str, Any] = {column: owner}
            if territory is not None:
                changes["territory_id"] = territory
            model.objects.filter(pk__in=part).update(**changes)


def _record_deal_changes(reassignment: Reassignment, rows: list[tuple[int, int | None, int]], on: dt.date,
                         now: dt.datetime) -> None:
    """One ``DealOwnerChange`` per moved deal (the deal's history); a rerun adds none."""
    if not rows:
        return
    note = f"Reassignment #{reassignment.pk}: {reassignment.title}"[:200]
    if connection.vendor == "postgresql":
        table = DealOwnerChange._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (opportunity_id, from_user_id, to_user_id, reassignment_id, effective_date, "  # noqa: S608
                "changed_at, note) SELECT v.deal, v.old, v.new, %s, %s, %s, %s "
                "FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS v(deal, old, new) "
                "ON CONFLICT DO NOTHING",
                [reassignment.pk, on, now, note, array_text([r[0] for r in rows]), array_text([r[1] for r in rows]),
                 array_text([r[2] for r in rows])],
            )
        return
    DealOwnerChange.objects.bulk_create(
        (DealOwnerChange(opportunity_id=deal, from_user_id=old, to_user_id=new, reassignment=reassignment,
                         effective_date=on, changed_at=now, note=note) for deal, old, new in rows),
        batch_size=1000, ignore_conflicts=True)


def _move_deals_and_activities(reassignment: Reassignment, impact: Impact, now: dt.datetime) -> tuple[int, int]:
    moving = impact.moving_deals
    to_of = dict(zip(impact.account_ids.tolist(), impact.to_ids.tolist(), strict=True))
    owners = {d.id: d.new_owner_id for d in moving if d.new_owner_id is not None}
    territories = {d.id: to_of[d.account_id] for d in moving if to_of.get(d.account_id, 0) > 0}
    _update_owners(Opportunity, "owner_id", owners, territories)
    _record_deal_changes(reassignment, [(d.id, d.owner_id, owners[d.id]) for d in moving if d.id in owners],
                         reassignment.effective_date, now)
    if impact.kind == Kind.SLOT_CHANGE:
        accounts = sorted({d.account_id for d in impact.deals})
        account_owner_after: dict[int, int | None] = {}
    else:
        accounts = impact.account_ids.tolist()
        account_owner_after = {a: impact.owners_after.get(t) for a, t in to_of.items()}
    targets = activity_targets(pending_activities(accounts, now), impact.deals, account_owner_after)
    _update_owners(Activity, "user_id", targets)
    return len(owners), len(targets)


def _apply_accounts(reassignment: Reassignment, impact: Impact, now: dt.datetime) -> dict[str, float]:
    """The territory side of the change, through the territory and routing services."""
    plan = reassignment.plan
    change = reassignment.change or {}
    by = reassignment.initiator
    why = f"Reassignment #{reassignment.pk}"
    if reassignment.kind in (Kind.MOVE_ACCOUNTS, Kind.MERGE):
        moved = accounts_lock_move(plan=plan, account_ids=impact.account_ids.tolist(), to_ids=impact.to_ids.tolist(),
                                   now=now, reason=f"{why}: {reassignment.title}")
        if reassignment.kind == Kind.MERGE:
            merged = Territory.objects.get(pk=change["territory"])
            _end_slots(merged, reassignment.effective_date - dt.timedelta(days=1), by)
            territory_update(territory=merged, data={"status": Territory.Status.INACTIVE}, by=by)
        return moved.seconds
    if reassignment.kind == Kind.RULE_CHANGE:
        territory = Territory.objects.get(pk=change["territory"])
        data: dict[str, Any] = {"rule": change.get("rule") or {}}
        if change.get("priority") is not None:
            data["priority"] = int(change["priority"])
        territory = territory_update(territory=territory, data=data, by=by)
        plan_reroute(plan=plan, territory_ids=[territory.pk], account_ids=impact.account_ids.tolist(), now=now)
    elif reassignment.kind == Kind.CARVE:
        parent = Territory.objects.get(pk=change["parent"])
        reps = []
        if change.get("primary_user"):
            reps.append({"user": _user(change["primary_user"]), "slot": RepAssignment.Slot.PRIMARY,
                         "start_date": reassignment.effective_date})
        created = territory_create(plan=plan, by=by, activate=True, data={
            "name": change["name"], "code": change["code"], "type": change.get("type"), "parent": parent,
            "rule": change.get("rule") or {}, "reps": reps, "description": why})
        plan_reroute(plan=plan, territory_ids=[created.pk, parent.pk], now=now)
    elif reassignment.kind == Kind.SLOT_CHANGE:
        _apply_slot(reassignment, change)
    return {}


def _end_slots(territory: Territory, last_day: dt.date, by: Any) -> None:
    """A merged territory's reps (every slot) cover it up to the day before the merge takes
    effect: their assignments end then, through the territory services (grants follow)."""
    for held in coverage.open_assignments().filter(territory=territory):
        assignment_end(assignment=held, end_date=last_day, by=by)


def _user(pk: int) -> Any:
    return User.objects.get(pk=pk)


def _apply_slot(reassignment: Reassignment, change: Mapping[str, Any]) -> None:
    territory = Territory.objects.get(pk=change["territory"])
    by = reassignment.initiator
    start = reassignment.effective_date
    if change.get("from_user"):
        held = coverage.open_assignments().filter(territory=territory, slot=change["slot"],
                                                  user_id=change["from_user"]).first()
        if held is not None:
            assignment_end(assignment=held, end_date=start - dt.timedelta(days=1), by=by)
    if change.get("to_user"):
        assignment_add(territory=territory, user=_user(change["to_user"]), slot=change["slot"],
                       split_percent=change.get("split_percent"), start_date=start, by=by)


# --- the run ---------------------------------------------------------------------------------------


def _execute_locked(reassignment_id: int, today: dt.date) -> ExecuteResult:
    reassignment = Reassignment.objects.select_for_update().select_related("plan", "initiator").filter(
        pk=reassignment_id).first()
    if reassignment is None:
        return ExecuteResult(reassignment_id, "nothing_to_do", message="No such proposal.")
    if reassignment.status != Status.SCHEDULED:
        return ExecuteResult(reassignment_id, "nothing_to_do",
                             message=f"The proposal is {reassignment.get_status_display().lower()}.")
    if reassignment.effective_date > today:
        return ExecuteResult(reassignment_id, "not_due", message=f"Due on {reassignment.effective_date}.")
    now = timezone.now()
    laps: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal clock
        laps[name] = round(time.perf_counter() - clock, 3)
        clock = time.perf_counter()

    impact = reassignment_impact(reassignment=reassignment, now=now, with_summary=False)
    if impact.covered_hash() != reassignment.impact_hash:
        raise _Stale(_difference(reassignment, impact))
    retired = _targets_active(reassignment, impact)
    if retired:
        raise _Stale(retired)
    lap("recheck")
    try:
        detail = _apply_accounts(reassignment, impact, now)
    except ValidationError as exc:
        raise _Stale({"refused": exc.messages}) from exc
    lap("accounts")
    laps.update({f"accounts.{k}": v for k, v in detail.items()})
    deals, activities = _move_deals_and_activities(reassignment, impact, now)
    lap("deals")
    ReassignmentMove.objects.filter(reassignment=reassignment, done_at__isnull=True).update(done_at=now)
    if reassignment.transition_days:
        reassignment.transition_ends = window_last_day(reassignment.effective_date, reassignment.transition_days)
        reassignment.begin_transition(by=None, description=f"In transition until {reassignment.transition_ends}")
    else:
        reassignment.complete(by=None, description="Executed")
    reassignment.failure = ""
    reassignment.save()
    reassignment_notify(event="executed", reassignment=reassignment)
    lap("record")
    return ExecuteResult(reassignment_id, "executed", moved_accounts=impact.moved_accounts, moved_deals=deals,
                         moved_activities=activities, seconds=laps)


def _mark_stale(reassignment_id: int, difference: dict[str, Any]) -> None:
    with transaction.atomic():
        reassignment = Reassignment.objects.select_for_update().get(pk=reassignment_id)
        if reassignment.status != Status.SCHEDULED:
            return
        reassignment.stale_difference = difference
        reassignment.mark_stale(by=None, description="What the proposal covers changed since it was approved")
        reassignment.save()
        approval_round_close(reassignment=reassignment)
        reassignment.notices.filter(status=CustomerNotice.Status.QUEUED).update(
            status=CustomerNotice.Status.CANCELLED)
        reassignment_notify(event="stale", reassignment=reassignment)


def reassignment_execute(*, reassignment_id: int, today: dt.date | None = None) -> ExecuteResult:
    """Executes one scheduled proposal whose effective date has come (see the module doc).
    Returns what happened; raises nothing for a proposal that is not due, already executed or
    stale. An unexpected error rolls everything back, is noted on the proposal (``failure``) and
    re-raised: the proposal stays scheduled and the next run tries again."""
    today = today or _today()
    try:
        with transaction.atomic():
            return _execute_locked(reassignment_id, today)
    except _Stale as stale:
        _mark_stale(reassignment_id, stale.difference)
        return ExecuteResult(reassignment_id, "stale", message="Sent back for re-approval: it changed since.")
    except Exception as exc:
        Reassignment.objects.filter(pk=reassignment_id).update(failure=f"{type(exc).__name__}: {exc}"[:2000])
        raise
