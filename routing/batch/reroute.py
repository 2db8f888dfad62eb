"""``plan_reroute``: scope, read, route, diff and write in order (see the package doc), then the
accounts edited while the run went are routed again."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from django.db import transaction
from django.utils import timezone

from routing.batch.changes import RowChanges, diff
from routing.batch.read import read_current, read_facts
from routing.batch.result import RerouteResult
from routing.batch.scope import scope_account_ids
from routing.batch.write import CHUNK_SIZE, Snapshot, write_changes
from routing.engine import vector
from routing.models import RoutingJob
from routing.services import account_route, plan_index
from salesos.models import Account
from territories.models import Territory, TerritoryPlan

SAMPLE_SIZE = 200  # moves kept for the dry-run page


def warm(plan: TerritoryPlan | None = None) -> None:
    """What a long-lived worker has ready before a re-route: pandas imported and, given a plan,
    its compiled index and every rule compiled for set-based routing."""
    import pandas  # noqa: F401

    if plan is not None:
        vector.for_plan(plan_index(plan=plan)).warm()


def locks_through(locks: np.ndarray, lock_map: Mapping[int, int]) -> np.ndarray:
    """Each lock replaced by its image in ``lock_map``; a lock the map lacks (and 0, no lock) stays."""
    if not len(locks) or not lock_map:
        return locks
    keys = np.fromiter(lock_map.keys(), dtype=np.int64, count=len(lock_map))
    values = np.fromiter(lock_map.values(), dtype=np.int64, count=len(lock_map))
    order = np.argsort(keys)
    keys, values = keys[order], values[order]
    at = np.clip(np.searchsorted(keys, locks), 0, len(keys) - 1)
    return np.where(keys[at] == locks, values[at], locks)


# --- the re-route ----------------------------------------------------------------------------


def plan_reroute(
    *,
    plan: TerritoryPlan,
    account_ids: Iterable[int] | None = None,
    territory_ids: Iterable[int] | None = None,
    dry_run: bool = False,
    job: RoutingJob | None = None,
    now: dt.datetime | None = None,
    chunk_size: int = CHUNK_SIZE,
    settle: bool = True,
    shared_decisions: bool = False,
    id_range: tuple[int, int] | None = None,
    lock_map: Mapping[int, int] | None = None,
) -> RerouteResult:
    """Re-routes every account of the plan (no ids given), the accounts ``account_ids``, or
    the accounts a change to ``territory_ids`` can move; see the package doc. With
    ``dry_run`` nothing is written and the result tells what would change. Each chunk is
    committed on its own, so a failure keeps the chunks before it (a re-run finishes the work:
    only what still differs is written).

    People keep editing accounts while a run goes: a chunk leaves alone the accounts that changed
    after the run read them (``write._stale_accounts``), and at the end those are routed again from
    their current facts (``settle``; without it they are only listed in ``result.stale``).

    ``id_range`` (first, last id, both included) routes the accounts in that range, read by range:
    one shard of a sharded full re-route (``shards``), with ``shared_decisions``: the shards of one
    run (one ``now``) store each decision once between them.

    ``lock_map`` (territory id -> territory id) routes the accounts as if each lock named its image:
    a simulation routes live accounts, whose locks name the active plan's territories, through a
    draft with ``territories.locks.lock_targets`` (the rule activation moves the locks by). Accounts
    settled one by one after the run read their own locks."""

    now = now or timezone.now()
    clock = time.perf_counter()
    compiled = plan_index(plan=plan)
    vplan = vector.for_plan(compiled)

    ids: list[int] | None
    if territory_ids is not None:
        scope = RoutingJob.Scope.TERRITORIES
        ids = scope_account_ids(plan=plan, compiled=compiled, territory_ids=territory_ids)
        if account_ids is not None:
            ids = sorted(set(ids) | set(account_ids))
    elif account_ids is not None:
        scope = RoutingJob.Scope.ACCOUNTS
        ids = sorted(set(account_ids))
    elif id_range is not None:
        scope = RoutingJob.Scope.ACCOUNTS
        ids = None
    else:
        scope = RoutingJob.Scope.FULL
        ids = None

    result = RerouteResult(plan_id=plan.pk, scope=scope, dry_run=dry_run)
    clock = result.lap("plan_and_scope", clock)
    cols, versions = read_facts(vplan.fields, ids, id_range)
    if lock_map:
        cols.locks = locks_through(cols.locks, lock_map)
    n = result.total = len(cols)
    clock = result.lap("read", clock)
    if job is not None:
        RoutingJob.objects.filter(pk=job.pk).update(total=n, processed=0, changed=0)
    routed = vector.route(vplan, cols)
    clock = result.lap("route", clock)
    current = read_current(plan, compiled, cols, ids, id_range)
    clock = result.lap("read_current", clock)
    changes = diff(routed, current, n)
    _count_changes(result, cols, changes)
    clock = result.lap("diff", clock)

    if not dry_run:

        def progress(processed: int) -> None:
            if job is not None:
                RoutingJob.objects.filter(pk=job.pk).update(processed=processed, changed=result.changed)

        seen = Snapshot(versions=versions, pk=current.pk, row=current.row)
        result.stale = sorted(set(write_changes(plan, compiled, cols, routed, changes, now, chunk_size, result,
                                                progress, seen, shared_decisions)))
        clock = result.lap("write", clock)
        if settle and result.stale:
            result.settled = _settle(plan, result.stale, now)
            clock = result.lap("settle", clock)
    else:
        keys = changes.insert_key[changes.insert_key >= 0]
        result.decisions = int(np.unique(keys).size)
    result.processed = n

    touched = set(result.moved_in) | set(result.moved_out)
    result.territory_codes = {
        t_id: (code, name)
        for t_id, code, name in Territory.objects.filter(pk__in=touched).values_list("pk", "code", "name")
    }
    if job is not None:
        RoutingJob.objects.filter(pk=job.pk).update(processed=result.processed, changed=result.changed)
    return result


SETTLE_ROUNDS = 3  # set-based passes over the accounts edited during a run ...
SETTLE_ONE_BY_ONE = 200  # ... before the rest go one by one (each locked, then routed)


def _settle(plan: TerritoryPlan, account_ids: Sequence[int], now: dt.datetime) -> int:
    """Routes again the accounts that changed while a run went, from their facts now: set-based
    while many remain, then each under its own lock through ``account_route`` (which an edit
    waits for), so the run ends with every account where the engine puts it. Returns how many
    accounts were routed again."""
    pending = sorted(set(account_ids))
    total = len(pending)
    rounds = 0
    while len(pending) > SETTLE_ONE_BY_ONE and rounds < SETTLE_ROUNDS:
        again = plan_reroute(plan=plan, account_ids=pending, now=max(now, timezone.now()), settle=False)
        pending = again.stale
        rounds += 1
    for account_id in pending:
        with transaction.atomic():
            account = Account.objects.select_for_update().filter(pk=account_id).first()
            if account is not None:
                account_route(account=account, plan=plan, now=max(now, timezone.now()))
    return total


def _count_changes(result: RerouteResult, cols: vector.Columns, changes: RowChanges) -> None:
    n = len(cols)
    touched = np.zeros(n, dtype=bool)
    touched[changes.insert_row] = True
    touched[changes.close_row] = True
    result.changed = int(touched.sum())
    result.rows_closed = int(changes.close.size)
    result.rows_inserted = int(changes.insert_row.size)
    moved = np.flatnonzero(changes.old_primary != changes.new_primary)
    result.moved = int(moved.size)
    old, new = changes.old_primary[moved], changes.new_primary[moved]
    result.newly_assigned = int((old == 0).sum())
    result.newly_unassigned = int((new == 0).sum())
    for territories, counter in ((old[old != 0], result.moved_out), (new[new != 0], result.moved_in)):
        values, counts = np.unique(territories, return_counts=True)
        counter.update(dict(zip(values.tolist(), counts.tolist(), strict=True)))
    if moved.size:
        first = moved[np.argsort(cols.ids[moved], kind="stable")[:SAMPLE_SIZE]]
        names = dict(Account.objects.filter(pk__in=cols.ids[first].tolist()).values_list("pk", "name"))
        for row in first.tolist():
            account_id = int(cols.ids[row])
            result.sample.append({
                "account_id": account_id,
                "name": names.get(account_id, ""),
                "from_id": int(changes.old_primary[row]) or None,
                "to_id": int(changes.new_primary[row]) or None,
            })
