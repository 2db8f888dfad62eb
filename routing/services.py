"""Routing services: every write that puts an account or a lead in a territory goes through here.

The engine (``routing.engine``) decides; these functions load the facts it needs, keep one
compiled plan per process (rebuilt when the plan's version stamp changes), and persist decisions
as effective-dated ``AccountTerritory`` rows, writing only the rows that change.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from routing import alerts, engine
from routing.sql import ACCOUNT_COLUMNS, LEAD_COLUMNS
from salesos.models import Account, Lead, SalesProfile, users_on_leave
from salesos.roles import edits_accounts, role_of
from territories import coverage
from territories.access import accounts_editable_by, territories_editable_by
from territories.locks import LOCK_VALUE, lock_set, locked_territory_id
from territories.models import AccountTerritory, RoutingDecision, Territory, TerritoryPlan
from territories.placement import current_primary_rows
from territories.services import plan_touch as plan_touch  # the version stamp is the plan's own

User = get_user_model()

# Model columns whose change can move a record (an account's lock changes through account_lock).
ACCOUNT_ROUTABLE_COLUMNS = frozenset(ACCOUNT_COLUMNS.values()) | {"industry"}  # a lock: account_lock


# --- the compiled plan, one per process ------------------------------------------------------

# plan id -> ((version, created_at), compiled). created_at is part of the stamp because a row id
# can come back (SQLite reuses the highest rowid after a delete) with version 1 again.
_indexes: dict[int, tuple[tuple[int, Any], engine.PlanIndex]] = {}
_index_lock = threading.Lock()


active_plan = TerritoryPlan.active


def plan_spec(*, plan: TerritoryPlan, version: int | None = None) -> engine.PlanSpec:
    """The engine's view of a plan: every territory with its rule and named-account list."""
    named: dict[int, set[int]] = {}
    through = Territory.named_accounts.through
    for territory_id, account_id in through.objects.filter(territory__plan=plan).values_list(
        "territory_id", "account_id"
    ):
        named.setdefault(territory_id, set()).add(account_id)
    specs = tuple(
        engine.TerritorySpec(
            id=row["id"],
            code=row["code"],
            parent_id=row["parent_id"],
            type=row["type"],
            priority=row["priority"],
            rule=row["rule"] or {},
            is_overlay=row["is_overlay"],
            credit_percent=row["credit_percent"],
            named_account_ids=frozenset(named.get(row["id"], ())),
            status=row["status"],
        )
        for row in Territory.objects.filter(plan=plan)
        .order_by("code")
        .values("id", "code", "parent_id", "type", "priority", "rule", "is_overlay", "credit_percent", "status")
    )
    return engine.PlanSpec(version=plan.version if version is None else version, territories=specs)


def plan_index(*, plan: TerritoryPlan) -> engine.PlanIndex:
    """The plan's compiled index, rebuilt only when its version stamp moved (one small query)."""
    stamp = TerritoryPlan.objects.filter(pk=plan.pk).values_list("version", "created_at").first()
    if stamp is None:
        raise TerritoryPlan.DoesNotExist(plan.pk)
    cached = _indexes.get(plan.pk)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _index_lock:
        cached = _indexes.get(plan.pk)
        if cached is None or cached[0] != stamp:
            cached = (stamp, engine.PlanIndex.build(plan_spec(plan=plan, version=stamp[0])))
            _indexes[plan.pk] = cached
    return cached[1]


def plan_index_forget(*, plan_ids: Iterable[int]) -> None:
    """Drops this process's compiled copies of these plans. Call it for a plan just created with a
    creation time that is not the clock's (the demo seed dates its plan from its anchor): its id
    may have been used before (SQLite reuses row ids, a rolled-back transaction gives its ids
    back) with the same version and creation time, and it would be routed with the old plan's
    territories."""
    with _index_lock:
        for plan_id in plan_ids:
            _indexes.pop(plan_id, None)


# --- records ---------------------------------------------------------------------------------


def record_of(obj: Account | Lead) -> dict[str, Any]:
    columns = ACCOUNT_COLUMNS if isinstance(obj, Account) else LEAD_COLUMNS
    record: dict[str, Any] = {name: getattr(obj, column) for name, column in columns.items()}
    if isinstance(obj, Account):
        record["id"] = obj.pk
        record["locked_territory_id"] = locked_territory_id(obj)
    return record


def record_from_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """A record from an ``Account.objects.values(*account_value_columns())`` row."""
    record = {name: values[column] for name, column in ACCOUNT_COLUMNS.items()}
    record["id"] = values["id"]
    record["locked_territory_id"] = values[LOCK_VALUE]
    return record


def account_value_columns() -> list[str]:
    return ["id", LOCK_VALUE, *dict.fromkeys(ACCOUNT_COLUMNS.values())]


# --- owners ----------------------------------------------------------------------------------


def lead_owner(*, territory: Territory, on: dt.date | None = None) -> int | None:
    """Who gets a new lead in a territory: its owner, or the next rep by round-robin or by spare
    capacity where the territory is configured so. Reps on leave are skipped."""
    on = on or timezone.localdate()
    mode = territory.lead_assignment
    if mode == Territory.LeadAssignment.PRIMARY:
        return coverage.owner_ids_on(territory_ids=[territory.pk], on=on).get(territory.pk)
    away = set(users_on_leave(on).values_list("user_id", flat=True))
    reps = [
        user_id
        for user_id in coverage.assignments_on(on, territory.assignments.all())
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()
        if user_id not in away
    ]
    if not reps:
        return coverage.owner_ids_on(territory_ids=[territory.pk], on=on).get(territory.pk)
    if mode == Territory.LeadAssignment.ROUND_ROBIN:
        # The cursor row is locked so two concurrent leads never get the same rep.
        cursor = Territory.objects.select_for_update().values_list("lead_cursor", flat=True).get(pk=territory.pk)
        Territory.objects.filter(pk=territory.pk).update(lead_cursor=F("lead_cursor") + 1)
        return reps[cursor % len(reps)]
    # Capacity-based: the rep with the most room, measured as open leads per unit of capacity.
    capacity = dict(SalesProfile.objects.filter(user_id__in=reps).values_list("user_id", "capacity_accounts"))
    open_leads: dict[int, int] = dict.fromkeys(reps, 0)
    open_statuses = [Lead.Status.NEW, Lead.Status.WORKING, Lead.Status.QUALIFIED]
    for owner_id in Lead.objects.filter(owner_id__in=reps, status__in=open_statuses).values_list("owner_id", flat=True):
        open_leads[owner_id] += 1
    return min(reps, key=lambda u: (open_leads[u] / max(capacity.get(u) or 1, 1), u))


# --- persisting decisions ----------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One desired current AccountTerritory row."""

    territory_id: int
    is_primary: bool
    credit_percent: int
    source: str


def desired_rows(decision: engine.Decision) -> dict[int, Row]:
    rows: dict[int, Row] = {}
    if decision.territory_id is not None:
        source = decision.source or AccountTerritory.Source.RULE
        rows[decision.territory_id] = Row(decision.territory_id, True, 100, source)
    for territory_id, credit in decision.overlays:
        rows.setdefault(territory_id, Row(territory_id, False, credit, AccountTerritory.Source.RULE))
    return rows


def _row_of(current: AccountTerritory) -> Row:
    return Row(current.territory_id, current.is_primary, current.credit_percent, current.source)


@transaction.atomic
def account_route(
    *,
    account: Account,
    plan: TerritoryPlan | None = None,
    now: dt.datetime | None = None,
    by=None,
    reason: str = "",
) -> engine.Decision | None:
    """Routes one account in the plan (the active one by default) and persists the outcome:
    rows that no longer hold are closed, new ones inserted, unchanged ones left alone. ``by`` and
    ``reason`` are recorded on the rows written (a lock set by an admin, say)."""
    plan = plan or active_plan()
    if plan is None:
        return None
    now = now or timezone.now()
    # Whoever writes an account's rows locks the account first (a batch re-route too): the rows
    # read below stay the current ones until this transaction ends.
    _lock_accounts([account.pk])
    decision = engine.resolve(plan_index(plan=plan), record := record_of(account))
    current = list(
        AccountTerritory.objects.select_for_update().filter(account=account, plan=plan, valid_to__isnull=True)
    )
    wanted = desired_rows(decision)
    kept_manual = decision.unassigned and any(
        r.is_primary and r.source == AccountTerritory.Source.MANUAL for r in current
    )
    held = _decision_held(current, decision, lock_id=record["locked_territory_id"])
    closing = [
        row.pk
        for row in current
        if (wanted.get(row.territory_id) != _row_of(row) or (row.is_primary and not held))
        and not (kept_manual and row.is_primary)
    ]
    have = {row.territory_id: _row_of(row) for row in current if row.pk not in closing}
    if closing:
        AccountTerritory.objects.filter(pk__in=closing).update(valid_to=now)
    inserting = [row for territory_id, row in wanted.items() if have.get(territory_id) != row]
    stored = (
        decision_record(plan=plan, decision=decision, lock_id=record["locked_territory_id"], now=now)
        if any(row.is_primary for row in inserting)
        else None
    )
    AccountTerritory.objects.bulk_create(
        AccountTerritory(
            account=account,
            territory_id=row.territory_id,
            plan=plan,
            is_primary=row.is_primary,
            credit_percent=row.credit_percent,
            source=row.source,
            valid_from=now,
            decision=stored if row.is_primary else None,
            conflict=decision.conflict and row.is_primary,
            routed_by=by,
            reason=reason[:200],
        )
        for row in inserting
    )
    return decision


def _decision_held(current: Iterable[AccountTerritory], decision: engine.Decision, *, lock_id: int | None) -> bool:
    """Whether the current primary row still tells this decision: the same matched territories,
    lock and conflict flag. A change of any of them is written even when the winner stays (the
    trace and the conflicts page read the row)."""
    primary = next((row for row in current if row.is_primary), None)
    if primary is None or decision.territory_id is None:
        return True  # nothing to explain, or nothing stored to compare
    if primary.conflict != decision.conflict or primary.decision_id is None:
        return False
    stored = (
        RoutingDecision.objects.filter(pk=primary.decision_id).values_list("matched", "locked_territory_id").first()
    )
    if stored is None:
        return False
    matched, stored_lock = stored
    return sorted(int(t) for t in matched or ()) == sorted(decision.matched) and (stored_lock or None) == (
        lock_id or None
    )


def _lock_accounts(account_ids: Iterable[int]) -> list[int]:
    """Locks these accounts' rows (in id order, as a batch re-route does, so two writers never
    wait on each other in a circle) and returns the ids that exist."""
    return list(
        Account.objects.select_for_update().filter(pk__in=list(account_ids)).order_by("pk").values_list("pk", flat=True)
    )


def decision_record(
    *, plan: TerritoryPlan, decision: engine.Decision, lock_id: int | None, now: dt.datetime | None = None
) -> RoutingDecision:
    """Stores what ``decide_matched`` needs to give the decision back (see RoutingDecision)."""
    return RoutingDecision.objects.create(
        plan=plan,
        plan_version=version_number(decision.trace.plan_version),
        matched=sorted(decision.matched),  # ascending ids, as the batch stores them and compares them
        locked_territory_id=lock_id,
        created_at=now or timezone.now(),
    )


def version_number(version: Any) -> int:
    """A plan version as stored on a decision (engine versions may be any value in tests)."""
    return version if isinstance(version, int) and version >= 0 else 0


def _routable_changed(before: Mapping[str, Any] | None, account: Account) -> bool:
    if before is None:
        return True
    return any(
        before.get(column) != getattr(account, column, None)
        for column in ACCOUNT_ROUTABLE_COLUMNS
        if column != "industry"
    )


def routable_snapshot(account: Account) -> dict[str, Any]:
    return {column: getattr(account, column) for column in ACCOUNT_ROUTABLE_COLUMNS if column != "industry"}


@transaction.atomic
def account_save(*, account: Account, before: Mapping[str, Any] | None = None) -> Account:
    """Creates or updates an account and routes it at once when it is new or a routable field
    (or its lock) changed. ``before`` is ``routable_snapshot`` of the stored account."""
    created = account.pk is None
    if not created and before is None:
        stored = Account.objects.filter(pk=account.pk).first()
        before = routable_snapshot(stored) if stored is not None else None
    account.save()
    if created or _routable_changed(before, account):
        decision = account_route(account=account)
        if decision is not None and decision.unassigned and not _placed_by_hand(account):
            alerts.unassigned_noted(account_ids=[account.pk])
    return account


@transaction.atomic
def account_create(*, account: Account, by) -> Account:
    """A new account entered on the pages by ``by``. Only editor roles create accounts
    (``salesos.roles.edits_accounts``; otherwise ``PermissionDenied``), and only where they may
    edit: the account is saved and routed through ``account_save`` (the real routing) and, when it
    lands outside the territories ``by`` may edit, the same rule as ``account_edit`` rolls
    everything back and ``ValidationError`` says why. Admins may create any account."""
    if not edits_accounts(by):
        raise PermissionDenied("You may not create accounts.")
    if account.pk is not None:
        raise ValueError("account_create takes a new account; use account_edit for a stored one.")
    try:
        account = account_save(account=account)
        _refuse_landing_outside_scope(account=account, by=by)
    except ValidationError:
        # The atomic block rolls everything back: leave the instance new, as nothing was stored.
        account.pk = None
        account._state.adding = True
        raise
    return account


@transaction.atomic
def account_edit(*, account: Account, before: Mapping[str, Any], by) -> Account:
    """An edit made by ``by`` on the pages. Only an account ``by`` may edit
    (``territories.access.accounts_editable_by``; otherwise ``PermissionDenied``), and a change of
    routable fields only when the account then sits in a territory ``by`` may edit: the edit runs
    through ``account_save`` (the real routing) and, when it would land elsewhere (another team's
    territory, or the unassigned queue), everything is rolled back and ``ValidationError`` says
    why. Admins may move any account."""
    if not accounts_editable_by(by).filter(pk=account.pk).exists():
        raise PermissionDenied("You may not edit this account.")
    account = account_save(account=account, before=before)
    if _routable_changed(before, account):
        _refuse_landing_outside_scope(account=account, by=by)
    return account


def _refuse_landing_outside_scope(*, account: Account, by) -> None:
    """The rule behind ``account_create`` and ``account_edit``: after routing, a saved account
    must sit in a territory ``by`` may edit (``territories_editable_by``); the unassigned queue
    does not count, since working the queue means routing from it, not entering accounts into
    it. Admins may place accounts anywhere. Raises ``ValidationError``, which the caller's atomic
    block turns into a full rollback."""
    if role_of(by) == SalesProfile.Role.ADMIN:
        return
    plan = active_plan()
    landed = current_primary_rows(plan).filter(account=account).values_list("territory_id", flat=True).first()
    if landed is None or not territories_editable_by(by, plan).filter(pk=landed).exists():
        where = "the unassigned queue" if landed is None else "a territory outside the ones you manage"
        raise ValidationError(
            f"With these values the account would land in {where}. Nothing was saved: keep it in your "
            "territories, or ask sales ops to place it."
        )


def _placed_by_hand(account: Account) -> bool:
    """A manual row the rules did not replace keeps an unassigned account in place."""
    return current_primary_rows().filter(account=account).exists()


@transaction.atomic
def account_lock(*, account: Account, territory: Territory | None, by=None, reason: str = "") -> engine.Decision | None:
    """Locks an account to a territory whatever the rules say (None unlocks), then re-routes it;
    the rows written record who did it."""
    lock_set(account=account, territory_id=territory.pk if territory is not None else None)
    default = f"Locked to {territory.code}" if territory is not None else "Unlocked"
    return account_route(account=account, by=by, reason=reason or default)


@transaction.atomic
def accounts_route_manually(*, account_ids: Iterable[int], territory: Territory, by, reason: str) -> int:
    """Puts accounts into a territory by hand (from the unassigned queue). The row holds until a
    rule claims the account; a lock is the way to hold against the rules."""
    plan = territory.plan
    now = timezone.now()
    ids = _lock_accounts(account_ids)
    AccountTerritory.objects.filter(account_id__in=ids, plan=plan, is_primary=True, valid_to__isnull=True).update(
        valid_to=now
    )
    AccountTerritory.objects.bulk_create(
        AccountTerritory(
            account_id=account_id,
            territory=territory,
            plan=plan,
            is_primary=True,
            source=AccountTerritory.Source.MANUAL,
            valid_from=now,
            routed_by=by,
            reason=reason[:200],
        )
        for account_id in ids
    )
    return len(ids)


# --- leads and previews ------------------------------------------------------------------------


@transaction.atomic
def lead_route(*, lead: Lead) -> engine.Decision | None:
    plan = active_plan()
    if plan is None:
        return None
    decision = engine.resolve(plan_index(plan=plan), record_of(lead))
    territory = Territory.objects.filter(pk=decision.territory_id).first() if decision.territory_id else None
    lead.territory = territory
    lead.owner_id = lead_owner(territory=territory) if territory is not None else None
    lead.routing_trace = decision.to_dict()
    Lead.objects.filter(pk=lead.pk).update(
        territory=territory, owner_id=lead.owner_id, routing_trace=lead.routing_trace
    )
    return decision


@transaction.atomic
def lead_save(*, lead: Lead) -> Lead:
    """Creates or updates a lead and routes it (every save: leads are cheap to route)."""
    lead.save()
    lead_route(lead=lead)
    return lead
