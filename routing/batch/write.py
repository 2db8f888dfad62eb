"""Writing a re-route's changes: the shared ``RoutingDecision``s, then the rows chunk by chunk, each
in its own transaction (binary ``COPY`` on PostgreSQL, on worker connections for a large run),
leaving alone the accounts that changed after the run read them."""

from __future__ import annotations

import datetime as dt
import struct
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction

from routing import engine
from routing.batch import workers
from routing.batch.changes import RowChanges
from routing.batch.read import ACCOUNTS, ID_CHUNK_SIZE, LOCK_JOIN, ROW_VERSION, SOURCE_NAMES
from routing.batch.result import RerouteResult
from routing.engine import vector
from routing.services import version_number
from salesos.models import Account
from territories.models import AccountTerritory, RoutingDecision, TerritoryPlan

CHUNK_SIZE = 125_000  # accounts per write transaction (and per progress step)

_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_COPY_COLUMNS = (
    "account_id, territory_id, plan_id, is_primary, credit_percent, source, decision_id, conflict, reason, valid_from"
)


def _binary_copy_rows(account: np.ndarray, territory: np.ndarray, plan_id: int, primary: bool, credit: np.ndarray,
                      source: str, decision: np.ndarray | None, conflict: np.ndarray, micros: int) -> bytes:
    """One group of rows (same source, decision set or NULL) in PostgreSQL's binary COPY layout:
    fixed-width records built by numpy, no per-row Python."""
    text = source.encode()
    fields: list[tuple[str, str]] = [("n", ">i2"),
        ("l_account", ">i4"), ("account", ">i8"), ("l_territory", ">i4"), ("territory", ">i8"),
        ("l_plan", ">i4"), ("plan", ">i8"), ("l_primary", ">i4"), ("primary", "u1"),
        ("l_credit", ">i4"), ("credit", ">i2"), ("l_source", ">i4"), ("source", f"S{len(text)}"),
        ("l_decision", ">i4")]
    if decision is not None:
        fields.append(("decision", ">i8"))
    fields += [("l_conflict", ">i4"), ("conflict", "u1"), ("l_reason", ">i4"), ("l_from", ">i4"), ("from", ">i8")]
    out = np.zeros(len(account), dtype=np.dtype(fields))
    out["n"] = 10
    out["l_account"], out["account"] = 8, account
    out["l_territory"], out["territory"] = 8, territory
    out["l_plan"], out["plan"] = 8, plan_id
    out["l_primary"], out["primary"] = 1, primary
    out["l_credit"], out["credit"] = 2, credit
    out["l_source"], out["source"] = len(text), text
    if decision is not None:
        out["l_decision"], out["decision"] = 8, decision
    else:
        out["l_decision"] = -1  # NULL
    out["l_conflict"], out["conflict"] = 1, conflict
    out["l_reason"] = 0  # ""
    out["l_from"], out["from"] = 8, micros
    return out.tobytes()


def _decision_rows(plan: TerritoryPlan, compiled: engine.PlanIndex, routed: vector.Routed,
                   keys: np.ndarray, now: dt.datetime) -> list[RoutingDecision]:
    version = version_number(compiled.version)
    return [
        RoutingDecision(plan=plan, plan_version=version, matched=list(routed.matched[k]),
                        locked_territory_id=int(routed.lock[k]) or None, created_at=now)
        for k in keys.tolist()
    ]


DECISION_LOCK = 0x5A1E5  # with the plan's id: the advisory lock shards take to share decisions


def _shared_decision_ids(plan: TerritoryPlan, compiled: engine.PlanIndex, routed: vector.Routed,
                         keys: np.ndarray, now: dt.datetime) -> list[int]:
    """The decisions of ``keys`` for one run split into shards (one plan version, one run time
    ``now``): under a lock on the plan's decisions (an advisory lock on PostgreSQL; SQLite's
    writes queue anyway), those another shard of the run already stored are reused and only the
    missing ones inserted, so each distinct outcome is stored once however many shards meet it.
    Call inside a transaction."""
    version = version_number(compiled.version)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [DECISION_LOCK, plan.pk])
    have: dict[tuple[tuple[int, ...], int | None], int] = {
        (tuple(matched), lock): pk
        for pk, matched, lock in RoutingDecision.objects.filter(
            plan=plan, plan_version=version, created_at=now
        ).values_list("pk", "matched", "locked_territory_id")
    }
    wanted = [(tuple(int(t) for t in routed.matched[k]), int(routed.lock[k]) or None) for k in keys.tolist()]
    missing = [key for key in dict.fromkeys(wanted) if key not in have]
    made = RoutingDecision.objects.bulk_create(
        [RoutingDecision(plan=plan, plan_version=version, matched=list(matched), locked_territory_id=lock,
                         created_at=now) for matched, lock in missing],
        batch_size=1000,
    )
    have.update({key: decision.pk for key, decision in zip(missing, made, strict=True)})
    return [have[key] for key in wanted]


def _reserve_ids(count: int) -> list[int]:
    """Ids for ``count`` new decisions, taken from their sequence up front so that the rows that
    point at them can be written before (or while) the decisions are."""
    table = RoutingDecision._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)",  # noqa: S608
            [count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy_decisions(raw: Any, plan: TerritoryPlan, compiled: engine.PlanIndex, routed: vector.Routed,
                    keys: np.ndarray, ids: Sequence[int], now: dt.datetime) -> None:
    """The decisions with their reserved ids, in one COPY through ``raw``."""
    version = version_number(compiled.version)
    stamp = now.isoformat()
    locks = routed.lock[keys].tolist()
    payload = "".join(
        f"{pk}\t{plan.pk}\t{version}\t[{', '.join(map(str, routed.matched[k]))}]\t{lock or '\\N'}\t{stamp}\n"
        for pk, k, lock in zip(ids, keys.tolist(), locks, strict=True)
    )
    sql = (
        f"COPY {RoutingDecision._meta.db_table} (id, plan_id, plan_version, matched, locked_territory_id, created_at) "
        "FROM STDIN"
    )
    with raw.cursor().copy(sql) as copy:
        copy.write(payload)


@dataclass
class Snapshot:
    """What the run read, to hold its writes to: each account's row version (PostgreSQL) and the
    current rows it saw."""

    versions: np.ndarray | None  # aligned with the columns
    pk: np.ndarray  # the current rows read
    row: np.ndarray  # their account positions


def _stale_accounts(raw: Any, plan: TerritoryPlan, cols: vector.Columns, seen: Snapshot, rows: np.ndarray,
                    now: dt.datetime) -> np.ndarray:
    """The positions among ``rows`` of accounts that changed after the run read them: the account
    is gone or its row version moved, or its current rows are not the ones read (closed or added
    since), or one of them starts after ``now``. Inside the chunk's transaction, after locking
    the accounts (in id order, as one statement) and their current rows: whoever edits an account
    (``account_save``, ``account_route``, manual routing) locks it first, so nothing changes
    between this check and the chunk's writes."""
    ids = cols.ids[rows]
    order = np.argsort(ids, kind="stable")
    ids_sorted = ids[order].tolist()
    table = AccountTerritory._meta.db_table
    if raw is not None:
        found = raw.execute(
            f"SELECT id, {ROW_VERSION} FROM {ACCOUNTS} {LOCK_JOIN} WHERE id = ANY(%s) ORDER BY id "  # noqa: S608
            f"FOR UPDATE OF {ACCOUNTS}",
            [ids_sorted],
        ).fetchall()
        # The id range bounds the scan to this chunk's stretch of the account-led index; without
        # it the planner filters every current row of the plan through the id list, and a run's
        # later chunks (and shards) slow down as the rows written before them pile up.
        fresh = raw.execute(
            f"SELECT id, account_id, valid_from FROM {table} WHERE plan_id = %s AND valid_to IS NULL "  # noqa: S608
            "AND account_id BETWEEN %s AND %s AND account_id = ANY(%s) FOR UPDATE",
            [plan.pk, ids_sorted[0], ids_sorted[-1], ids_sorted],
        ).fetchall()
    else:
        found, fresh = [], []
        for start in range(0, len(ids_sorted), ID_CHUNK_SIZE):
            part = ids_sorted[start : start + ID_CHUNK_SIZE]
            found.extend((pk, None) for pk in Account.objects.filter(pk__in=part).values_list("pk", flat=True))
            fresh.extend(
                AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True, account_id__in=part).values_list(
                    "pk", "account_id", "valid_from"
                )
            )
    stale: set[int] = set(ids_sorted) - {pk for pk, _ in found}
    if seen.versions is not None:
        version_of = dict(zip(ids.tolist(), seen.versions[rows].tolist(), strict=True))
        stale.update(pk for pk, version in found if version_of.get(pk) != version)
    read_mask = np.isin(seen.row, rows)
    read_pks = dict(zip(seen.pk[read_mask].tolist(), cols.ids[seen.row[read_mask]].tolist(), strict=True))
    fresh_pks = {pk for pk, _, _ in fresh}
    stale.update(account for pk, account in read_pks.items() if pk not in fresh_pks)
    stale.update(account for pk, account, valid_from in fresh if pk not in read_pks or valid_from > now)
    if not stale:
        return np.zeros(0, dtype=np.int64)
    return rows[np.isin(ids, np.fromiter(stale, dtype=np.int64, count=len(stale)))]


def _write_chunk(raw: Any, plan: TerritoryPlan, cols: vector.Columns, routed: vector.Routed, changes: RowChanges,
                 pick: np.ndarray, close_pick: np.ndarray, decision_of: Mapping[int, int], now: dt.datetime,
                 seen: Snapshot | None = None) -> np.ndarray:
    """Closes and inserts one chunk's rows: on PostgreSQL through ``raw`` (a psycopg connection,
    Django's own or a worker's), elsewhere through the ORM. With ``seen``, the accounts that
    changed after the run read them are left alone and their ids returned, to be routed again
    (a run never closes a row it did not read, nor writes from facts that moved)."""
    table = AccountTerritory._meta.db_table
    postgres = raw is not None
    skipped = np.zeros(0, dtype=np.int64)
    if seen is not None:
        touched = np.unique(np.concatenate([changes.insert_row[pick], changes.close_row[close_pick]]))
        stale_rows = _stale_accounts(raw, plan, cols, seen, touched, now) if touched.size else skipped
        if stale_rows.size:
            pick = pick[~np.isin(changes.insert_row[pick], stale_rows)]
            close_pick = close_pick[~np.isin(changes.close_row[close_pick], stale_rows)]
            skipped = cols.ids[stale_rows]
    close = changes.close[close_pick]
    if close.size:
        if postgres:
            raw.execute(  # noqa: S608
                f"UPDATE {table} SET valid_to = %s WHERE id = ANY(%s) AND valid_to IS NULL", [now, close.tolist()]
            )
        else:
            for start in range(0, len(close), 500):
                part = close[start : start + 500].tolist()
                AccountTerritory.objects.filter(pk__in=part, valid_to__isnull=True).update(valid_to=now)
    if not pick.size:
        return skipped
    keys = changes.insert_key[pick]
    rows = changes.insert_row[pick]
    account = cols.ids[rows]
    territory = changes.insert_territory[pick]
    primary = changes.insert_primary[pick]
    credit = changes.insert_credit[pick]
    source = changes.insert_source[pick]
    conflict = routed.conflict[rows] & primary
    decision = np.zeros(len(keys), dtype=np.int64)
    if decision_of:
        lookup = np.zeros(max(decision_of) + 1, dtype=np.int64)
        lookup[list(decision_of)] = list(decision_of.values())
        inside = (keys >= 0) & (keys < len(lookup))
        decision[inside] = lookup[keys[inside]]
    if not postgres:
        AccountTerritory.objects.bulk_create(
            (
                AccountTerritory(account_id=a, territory_id=t, plan=plan, is_primary=p, credit_percent=c,
                                 source=SOURCE_NAMES[s], decision_id=d or None, conflict=f, valid_from=now)
                for a, t, p, c, s, d, f in zip(account.tolist(), territory.tolist(), primary.tolist(),
                                               credit.tolist(), source.tolist(), decision.tolist(),
                                               conflict.tolist(), strict=True)
            ),
            batch_size=1000,
        )
        return skipped
    micros = (now - _PG_EPOCH) // dt.timedelta(microseconds=1)
    parts = [b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)]
    for code in np.unique(source).tolist():
        for is_primary in (True, False):
            at = np.flatnonzero((source == code) & (primary == is_primary))
            if not at.size:
                continue
            at = at[np.argsort(account[at], kind="stable")]  # index-friendly order
            parts.append(_binary_copy_rows(account[at], territory[at], plan.pk, is_primary, credit[at],
                                           str(SOURCE_NAMES[code]), decision[at] if is_primary else None, conflict[at],
                                           micros))
    parts.append(struct.pack(">h", -1))
    with raw.cursor().copy(f"COPY {table} ({_COPY_COLUMNS}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(b"".join(parts))
    return skipped


def write_changes(plan: TerritoryPlan, compiled: engine.PlanIndex, cols: vector.Columns, routed: vector.Routed,
                  changes: RowChanges, now: dt.datetime, chunk_size: int, result: RerouteResult,
                  progress: Any, seen: Snapshot | None = None, shared_decisions: bool = False) -> list[int]:
    """The decisions first (one transaction), then the rows chunk by chunk, each chunk in its own
    transaction; on a large PostgreSQL run ``workers.WORKERS`` connections write chunks side by side
    (index maintenance dominates the writing and runs in the database, one core per connection).
    ``shared_decisions``: this run is one shard of several, which share their decisions
    (``_shared_decision_ids``). Returns the accounts left alone because they changed after the run
    read them."""
    n = len(cols)
    keys = changes.insert_key[changes.insert_key >= 0]
    needed = np.unique(keys)
    result.decisions = int(needed.size)
    postgres = connection.vendor == "postgresql"
    parallel = workers.parallel(n)
    started = time.perf_counter()
    if shared_decisions:
        with transaction.atomic():
            ids = _shared_decision_ids(plan, compiled, routed, needed, now)
    elif not postgres:
        with transaction.atomic():
            made = RoutingDecision.objects.bulk_create(_decision_rows(plan, compiled, routed, needed, now),
                                                       batch_size=500)
        ids = [d.pk for d in made]
    else:
        ids = _reserve_ids(len(needed)) if needed.size else []
        if needed.size and not parallel:
            with transaction.atomic():
                _copy_decisions(connection.connection, plan, compiled, routed, needed, ids, now)
    decision_of: dict[int, int] = dict(zip(needed.tolist(), ids, strict=True))
    result.lap("write_decisions", started)
    order = np.argsort(cols.ids, kind="stable")
    chunk_of_row = np.empty(n, dtype=np.int64)
    chunk_of_row[order] = np.arange(n) // max(1, chunk_size)
    insert_chunk = chunk_of_row[changes.insert_row]
    close_chunk = chunk_of_row[changes.close_row]
    chunks = [
        (chunk, np.flatnonzero(insert_chunk == chunk), np.flatnonzero(close_chunk == chunk))
        for chunk in range(int(chunk_of_row.max()) + 1 if n else 0)
    ]

    def done(chunk: int) -> None:
        result.processed = max(result.processed, min(n, (chunk + 1) * chunk_size))
        progress(result.processed)

    stale: list[int] = []
    if not parallel:
        for chunk, pick, close_pick in chunks:
            if pick.size or close_pick.size:
                with transaction.atomic():
                    raw = connection.connection if postgres else None
                    stale.extend(_write_chunk(raw, plan, cols, routed, changes, pick, close_pick, decision_of,
                                              now, seen).tolist())
            done(chunk)
        return stale

    def worker(mine: list[tuple[int, np.ndarray, np.ndarray]]) -> tuple[list[int], list[int]]:
        raw = workers.worker_connection()
        raw.autocommit = True
        try:
            finished, skipped = [], []
            for chunk, pick, close_pick in mine:
                if pick.size or close_pick.size:
                    with raw.transaction():  # autocommit connection: BEGIN ... COMMIT
                        skipped.extend(_write_chunk(raw, plan, cols, routed, changes, pick, close_pick,
                                                    decision_of, now, seen).tolist())
                finished.append(chunk)
            return finished, skipped
        finally:
            raw.close()

    def decisions_worker() -> None:  # the decisions go in beside the rows that point at them
        raw = workers.worker_connection()
        raw.autocommit = True
        try:
            with raw.transaction():
                _copy_decisions(raw, plan, compiled, routed, needed, ids, now)
        finally:
            raw.close()

    shares = [chunks[i::workers.WORKERS] for i in range(workers.WORKERS)]
    with ThreadPoolExecutor(max_workers=workers.WORKERS + 1) as pool:
        pending = pool.submit(decisions_worker) if needed.size and not shared_decisions else None
        for finished, skipped in pool.map(worker, shares):
            stale.extend(skipped)
            for chunk in finished:
                done(chunk)
        if pending is not None:
            pending.result()
    return stale
