"""Batch re-routing: every account of a plan, or a subset, at once, writing only what changes.

``plan_reroute`` produces exactly the rows ``services.account_route`` would produce account by
account (tests hold it to that), but set-based:

1. read the routable fields the plan's rules use, for every account in scope, column by column
   (on PostgreSQL one ``COPY ... TO STDOUT`` parsed by pandas);
2. decide every account at once with ``engine.vector`` (numpy): the winners, conflicts and overlay
   credits, and per account a key naming the set of territories that matched;
3. read the scope's current rows and diff them against the decisions, as arrays;
4. unless it is a dry run, in one transaction per chunk of accounts: store one
   ``RoutingDecision`` per key that a written row needs (many rows share one), close the rows
   that change (``valid_to = now``) and insert their successors (a binary ``COPY`` on
   PostgreSQL). Rows that stay are not touched.

Scope "territories" is the path taken after one territory's rule changed: the accounts that
may move are those currently in the territories' subtrees plus those the new rules can match
(``rule_to_q`` over the territory's chain of rules, named lists, locks), found in SQL without
reading every account.

``reroute_job_start`` records a ``RoutingJob`` and queues ``routing.tasks.reroute_job_run``
after commit; the job's counters move every chunk so its page can poll them.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import struct
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from routing import engine
from routing.compile import rule_to_q
from routing.engine import vector
from routing.models import AccountTerritory, RoutingDecision, RoutingJob
from routing.services import account_route, compiled_plan, version_number
from salesos.models import Account
from territories.models import Territory, TerritoryPlan

log = logging.getLogger(__name__)

CHUNK_SIZE = 125_000  # accounts per write transaction (and per progress step)
PARALLEL_MIN = 200_000  # accounts from which reading and writing use worker connections
WORKERS = 2  # worker connections (the database does the work: one core each)
ID_CHUNK_SIZE = 5_000  # ids per query when reading a list of accounts (SQL parameter limits)
SAMPLE_SIZE = 200  # moves kept for the dry-run page

MANUAL = AccountTerritory.Source.MANUAL
SCOPES = tuple(RoutingJob.Scope.values)
# Row sources as small codes: vector.SOURCES (None, rule, named, lock) then manual.
SOURCE_NAMES: tuple[str | None, ...] = (*vector.SOURCES, MANUAL.value)
_SOURCE_CODE = {name: code for code, name in enumerate(SOURCE_NAMES)}
_MANUAL_CODE = _SOURCE_CODE[MANUAL.value]


# --- results ---------------------------------------------------------------------------------


@dataclass
class RerouteResult:
    plan_id: int
    scope: str
    dry_run: bool
    total: int = 0  # accounts in scope
    processed: int = 0
    changed: int = 0  # accounts with at least one row closed or opened
    moved: int = 0  # accounts whose primary territory changes
    newly_assigned: int = 0
    newly_unassigned: int = 0
    rows_closed: int = 0
    rows_inserted: int = 0
    decisions: int = 0  # decisions stored (distinct sets of matching territories and lock)
    settled: int = 0  # accounts edited while the run went, routed again at its end
    stale: list[int] = field(default_factory=list)  # those accounts (ids)
    moved_in: Counter = field(default_factory=Counter)  # territory_id -> accounts arriving
    moved_out: Counter = field(default_factory=Counter)  # territory_id -> accounts leaving
    sample: list[dict[str, Any]] = field(default_factory=list)  # {account_id, name, from_id, to_id}
    territory_codes: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, name)
    seconds: dict[str, float] = field(default_factory=dict)  # phase -> wall time, for the benchmark

    def lap(self, phase: str, started: float) -> float:
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - started, 3)
        return now

    def counts(self) -> dict[str, int]:
        return {
            "total": self.total,
            "processed": self.processed,
            "changed": self.changed,
            "moved": self.moved,
            "newly_assigned": self.newly_assigned,
            "newly_unassigned": self.newly_unassigned,
            "rows_closed": self.rows_closed,
            "rows_inserted": self.rows_inserted,
            "decisions": self.decisions,
            "settled": self.settled,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON for ``RoutingJob.result``: counts, per-territory in/out, a sample of moves."""

        def code(t_id: int | None) -> str | None:
            return self.territory_codes.get(t_id, (str(t_id), ""))[0] if t_id is not None else None

        territories = [
            {
                "id": t_id,
                "code": code(t_id),
                "name": self.territory_codes.get(t_id, ("", ""))[1],
                "in": self.moved_in.get(t_id, 0),
                "out": self.moved_out.get(t_id, 0),
            }
            for t_id in set(self.moved_in) | set(self.moved_out)
        ]
        territories.sort(key=lambda row: (-(row["in"] + row["out"]), row["code"] or ""))
        sample = [
            {
                "account_id": move["account_id"],
                "name": move["name"],
                "from_code": code(move["from_id"]),
                "to_code": code(move["to_id"]),
            }
            for move in self.sample
        ]
        return {
            "plan_id": self.plan_id,
            "scope": self.scope,
            "dry_run": self.dry_run,
            "counts": self.counts(),
            "territories": territories,
            "sample": sample,
        }


# --- scope -----------------------------------------------------------------------------------


def _subtree(compiled: engine.CompiledPlan, roots: Iterable[int]) -> set[int]:
    children: dict[int | None, list[int]] = {}
    for node in compiled.nodes.values():
        children.setdefault(node.parent_id, []).append(node.id)
    found: set[int] = set()
    stack = [r for r in roots if r in compiled.nodes]
    while stack:
        t_id = stack.pop()
        if t_id not in found:
            found.add(t_id)
            stack.extend(children.get(t_id, ()))
    return found


def _chain_q(compiled: engine.CompiledPlan, t_id: int) -> Q | None:
    """Accounts the territory's rule, with every ancestor's, can match (None: none can).
    A named list stands alone, whatever its ancestors say."""
    q = Q()
    current: int | None = t_id
    while current is not None:
        node = compiled.nodes[current]
        if node.named is not None:
            return q & Q(pk__in=sorted(node.named)) if node.named else None
        if compiled.matches_nothing(current):
            return None
        q &= rule_to_q(compiled.rules.get(current) or {})
        current = node.parent_id
    return q


def _decided_with(plan: TerritoryPlan, territory_ids: Sequence[int]) -> set[int]:
    """Accounts whose current decision matched one of these territories (as winner, loser,
    rolled-up ancestor or overlay): a change to one of them can change their decision (a tie
    gone, another winner) though they sit elsewhere. Found through the decisions that name the
    territories, then through the (territory, valid_to) index on the territories those
    decisions name (the winner is one of them)."""
    table = RoutingDecision._meta.db_table
    wanted = set(territory_ids)
    found: dict[int, list[int]] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # jsonb containment, one C-level test per territory (4x a scan of the array elements).
            cursor.execute(
                f"SELECT id, matched FROM {table} WHERE plan_id = %s "  # noqa: S608 - our table
                "AND matched @> ANY(%s::jsonb[])",
                [plan.pk, [f"[{t}]" for t in sorted(wanted)]],
            )
            for pk, matched in cursor.fetchall():
                found[pk] = [int(t) for t in (json.loads(matched) if isinstance(matched, str) else matched)]
    else:
        for pk, matched in RoutingDecision.objects.filter(plan=plan).values_list("pk", "matched").iterator():
            ids = [int(t) for t in matched or ()]
            if wanted.intersection(ids):
                found[pk] = ids
    if not found:
        return set()
    winners = sorted({t for ids in found.values() for t in ids})
    accounts: set[int] = set()
    rows = AccountTerritory.objects.filter(
        plan=plan, valid_to__isnull=True, is_primary=True, territory_id__in=winners
    ).values_list("account_id", "decision_id")
    accounts.update(account for account, decision in rows.iterator() if decision in found)
    return accounts


def scope_account_ids(*, plan: TerritoryPlan, compiled: engine.CompiledPlan, territory_ids: Iterable[int]) -> list[int]:
    """Accounts a change to these territories can move or decide differently: those currently in
    them or their subtrees, those whose current decision matched a territory of the subtrees,
    plus those their (new) rules, named lists or locks can claim. Sorted ids."""
    roots = [t for t in territory_ids if t in compiled.nodes]
    subtree = sorted(_subtree(compiled, roots))
    if not subtree:
        return []
    ids: set[int] = set(
        AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True, territory_id__in=subtree).values_list(
            "account_id", flat=True
        )
    )
    ids.update(_decided_with(plan, subtree))
    for t_id in roots:
        q = _chain_q(compiled, t_id)
        if q is not None:
            ids.update(Account.objects.filter(q).values_list("id", flat=True))
    for t_id in subtree:
        named = compiled.nodes[t_id].named
        if named:
            ids.update(named)
    ids.update(Account.objects.filter(locked_territory_id__in=subtree).values_list("id", flat=True))
    return sorted(ids)


# --- reading ---------------------------------------------------------------------------------


def _columns_of(fields: Iterable[str]) -> list[tuple[str, str]]:
    """(field, Account column) for the fields to read, text first."""
    names = sorted(fields, key=lambda n: (engine.FIELDS[n].type in ("integer", "money"), n))
    return [(name, engine.COLUMNS[name]) for name in names]


def read_columns(fields: Iterable[str], ids: Sequence[int] | None = None) -> vector.Columns:
    """The accounts (every one, or these ids) as ``vector.Columns``."""
    return read_facts(fields, ids)[0]


# The row version of an account on PostgreSQL: the id of the transaction that wrote it, which
# every update changes. Read with the facts, it tells at write time whether the account changed
# since (see ``_stale_accounts``).
_ROW_VERSION = "xmin::text::bigint"


def read_facts(fields: Iterable[str], ids: Sequence[int] | None = None) -> tuple[vector.Columns, np.ndarray | None]:
    """The accounts as ``vector.Columns`` and, on PostgreSQL, each one's row version (aligned with
    ``Columns.ids``) read in the same statement as its facts."""
    columns = _columns_of(fields)
    postgres = connection.vendor == "postgresql"
    if ids is None and postgres:
        return _read_copy(columns)
    wanted = ["id", "locked_territory_id", *(column for _, column in columns)]
    qs = Account.objects.order_by()
    if postgres:
        qs = qs.annotate(row_version=RawSQL(_ROW_VERSION, ()))
        wanted.append("row_version")
    rows: list[tuple] = []
    if ids is None:
        rows = list(qs.values_list(*wanted))
    else:
        for start in range(0, len(ids), ID_CHUNK_SIZE):
            rows.extend(qs.filter(pk__in=ids[start : start + ID_CHUNK_SIZE]).values_list(*wanted))
    records = [
        {"id": row[0], "locked_territory_id": row[1], **{name: row[i + 2] for i, (name, _) in enumerate(columns)}}
        for row in rows
    ]
    cols = vector.Columns.from_records(records, [name for name, _ in columns])
    versions = np.asarray([row[-1] for row in rows], dtype=np.int64) if postgres else None
    return cols, versions


def _no_columns(columns: list[tuple[str, str]]) -> vector.Columns:
    return vector.Columns.from_records([], [name for name, _ in columns])


def _read_copy(columns: list[tuple[str, str]]) -> tuple[vector.Columns, np.ndarray]:
    """Every account in one query, parsed by pandas' C reader: text columns come back as codes into
    their distinct values, money as integer cents computed by the database (exact)."""
    import pandas as pd

    # Every field as CSV text (NULL as an empty field; concat_ws would drop it), the whole table as
    # one text value built by the server and parsed by pandas' C reader: a COPY would cost a Python
    # iteration per row (measured 1.5 s against 1.0 s for a million accounts).
    fields_sql = ["id::text", "COALESCE(locked_territory_id, 0)::text"]
    tail = [f"{_ROW_VERSION}::text"]  # the row version, last
    for name, column in columns:
        f = engine.FIELDS[name]
        if f.type in engine.fields.NUMBER_TYPES:
            fields_sql.append(f"COALESCE((({column}) * {vector.money_scale(f.type)})::bigint::text, '')")
        else:
            fields_sql.append(f"COALESCE('\"' || replace({column}, '\"', '\"\"') || '\"', '')")
    sql = (
        f"SELECT string_agg(concat_ws(',', {', '.join(fields_sql + tail)}), E'\\n') "  # noqa: S608 - our columns
        f"FROM {Account._meta.db_table} WHERE id BETWEEN %s AND %s"
    )
    numbers = {i + 2 for i, (name, _) in enumerate(columns) if engine.FIELDS[name].type in ("integer", "money")}
    names = list(range(3 + len(columns)))
    version_at = names[-1]
    numbers.add(version_at)

    def parse(text: str) -> Any:
        return pd.read_csv(
            io.StringIO(text),
            header=None,
            names=names,
            dtype={i: ("Int64" if i in numbers or i < 2 else object) for i in names},
            keep_default_na=False,
            na_values={i: [""] for i in numbers},
        )

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(id), max(id) FROM {Account._meta.db_table}")  # noqa: S608
        low, high = cursor.fetchone()
    if low is None:
        return _no_columns(columns), np.zeros(0, dtype=np.int64)
    if high - low < PARALLEL_MIN or connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(sql, [low, high])
            text = cursor.fetchone()[0]
        if not text:
            return _no_columns(columns), np.zeros(0, dtype=np.int64)
        frame = parse(text)
    else:  # two halves side by side: the database builds each on its own core
        from concurrent.futures import ThreadPoolExecutor

        middle = (low + high) // 2

        def part(bounds: tuple[int, int]) -> Any:
            raw = _worker_connection()
            try:
                text = raw.execute(sql, bounds).fetchone()[0]
            finally:
                raw.close()
            return parse(text) if text else None

        with ThreadPoolExecutor(max_workers=2) as pool:
            frames = [f for f in pool.map(part, [(low, middle), (middle + 1, high)]) if f is not None]
        if not frames:
            return _no_columns(columns), np.zeros(0, dtype=np.int64)
        frame = pd.concat(frames, ignore_index=True)
    cols = vector.Columns(
        ids=frame[0].to_numpy(dtype=np.int64), locks=frame[1].to_numpy(dtype=np.int64)
    )
    for i, (name, _) in enumerate(columns, start=2):
        f = engine.FIELDS[name]
        if i in numbers:
            series = frame[i]
            present = series.notna().to_numpy()
            cols.numbers[name] = vector.NumberColumn(
                series.fillna(0).to_numpy(dtype=np.int64), present, vector.money_scale(f.type)
            )
            continue
        codes, uniques = pd.factorize(frame[i].to_numpy(dtype=object))
        values = list(uniques)
        codes = codes.astype(np.int64)
        if "" in values:  # empty text is missing, like NULL
            blank = values.index("")
            codes[codes == blank] = -1
            codes[codes > blank] -= 1
            del values[blank]
        cols.text[name] = vector.TextColumn(codes, values)
    return cols, frame[version_at].to_numpy(dtype=np.int64)


@dataclass
class Current:
    """The scope's current rows, as arrays."""

    pk: np.ndarray
    row: np.ndarray  # position of the account in the columns
    territory: np.ndarray
    primary: np.ndarray
    credit: np.ndarray
    source: np.ndarray  # SOURCE_NAMES code
    decision: np.ndarray  # RoutingDecision id (0 none)
    conflict: np.ndarray  # bool


def read_current(plan: TerritoryPlan, compiled: engine.CompiledPlan, cols: vector.Columns,
                 ids: Sequence[int] | None) -> Current:
    """The current rows of the plan (of these accounts), found through the (territory, valid_to)
    index for a whole plan and the account-led indexes for a list of accounts."""
    wanted = ("pk", "account_id", "territory_id", "is_primary", "credit_percent", "decision_id", "conflict", "source")
    qs = AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True).order_by()
    rows: list[tuple] = []
    if ids is None and connection.vendor == "postgresql":
        table, source = _current_copy(plan, sorted(compiled.nodes))
    else:
        if ids is None:
            rows = list(qs.filter(territory_id__in=sorted(compiled.nodes)).values_list(*wanted))
        else:
            for start in range(0, len(ids), ID_CHUNK_SIZE):
                rows.extend(qs.filter(account_id__in=ids[start : start + ID_CHUNK_SIZE]).values_list(*wanted))
        table = np.asarray([[v or 0 for v in r[:7]] for r in rows], dtype=np.int64).reshape(-1, 7)
        source = np.asarray([_SOURCE_CODE.get(r[7], 1) for r in rows], dtype=np.int64)
    order = np.argsort(cols.ids, kind="stable")
    sorted_ids = cols.ids[order]
    at = np.searchsorted(sorted_ids, table[:, 1]) if len(sorted_ids) else np.zeros(len(table), dtype=np.int64)
    known = at < len(sorted_ids)
    known[known] = sorted_ids[at[known]] == table[known, 1]
    # Rows of accounts outside the columns (deleted meanwhile) are left alone.
    return Current(
        pk=table[known, 0],
        row=order[at[known]],
        territory=table[known, 2],
        primary=table[known, 3].astype(bool),
        credit=table[known, 4],
        source=source[known],
        decision=table[known, 5],
        conflict=table[known, 6].astype(bool),
    )


def _current_copy(plan: TerritoryPlan, territory_ids: list[int]) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    buffer = io.BytesIO()
    sql = (
        "COPY (SELECT id, account_id, territory_id, is_primary::int, credit_percent, "  # noqa: S608
        "COALESCE(decision_id, 0), conflict::int, source "
        f"FROM {AccountTerritory._meta.db_table} WHERE territory_id = ANY(%s) AND valid_to IS NULL "
        "AND plan_id = %s) TO STDOUT (FORMAT csv)"
    )
    with connection.cursor() as cursor, cursor.connection.cursor().copy(sql, [territory_ids, plan.pk]) as copy:
        for data in copy:
            buffer.write(data)
    if not buffer.tell():
        return np.zeros((0, 7), dtype=np.int64), np.zeros(0, dtype=np.int64)
    buffer.seek(0)
    frame = pd.read_csv(buffer, header=None, dtype={i: np.int64 for i in range(7)} | {7: object})
    codes = {name: code for name, code in _SOURCE_CODE.items() if name is not None}
    return frame[list(range(7))].to_numpy(dtype=np.int64), frame[7].map(codes).fillna(1).to_numpy(dtype=np.int64)


def decision_keys(routed: vector.Routed, decision_ids: np.ndarray) -> np.ndarray:
    """Per stored decision id, the routing key that gives the same decision (the same matched
    territories and lock), -1 where none does: a row whose decision no longer holds is rewritten
    even when its territory stays."""
    out = np.full(len(decision_ids), -1, dtype=np.int64)
    unique, inverse = np.unique(decision_ids, return_inverse=True)
    wanted = [int(d) for d in unique.tolist() if d]
    if not wanted:
        return out
    found: dict[int, int] = {}
    locks = routed.lock.tolist()
    if connection.vendor == "postgresql":
        # Compared as jsonb's own text ("[3, 17]", ids ascending as both writers store them): no
        # JSON decoding of tens of thousands of decisions.
        pairs = enumerate(zip(routed.matched, locks, strict=True))
        text_of = {(f"[{', '.join(map(str, m))}]", lock): k for k, (m, lock) in pairs}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, matched::text, COALESCE(locked_territory_id, 0) FROM {RoutingDecision._meta.db_table} "  # noqa: S608
                "WHERE id = ANY(%s)",
                [wanted],
            )
            found = {pk: text_of.get((matched, lock), -1) for pk, matched, lock in cursor.fetchall()}
    else:
        key_of = {(m, lock): k for k, (m, lock) in enumerate(zip(routed.matched, locks, strict=True))}
        for start in range(0, len(wanted), ID_CHUNK_SIZE):
            part = RoutingDecision.objects.filter(pk__in=wanted[start : start + ID_CHUNK_SIZE])
            for pk, matched, lock in part.values_list("pk", "matched", "locked_territory_id"):
                found[pk] = key_of.get((tuple(sorted(int(t) for t in matched or ())), int(lock or 0)), -1)
    keys = np.asarray([found.get(int(d), -1) for d in unique.tolist()], dtype=np.int64)
    return keys[inverse.reshape(-1)]


# --- the diff --------------------------------------------------------------------------------


@dataclass
class Plan_:
    """What to write: rows to close (their pks) and rows to insert, as arrays."""

    close: np.ndarray
    close_row: np.ndarray  # the account position of each closed row
    insert_row: np.ndarray  # account position
    insert_territory: np.ndarray
    insert_primary: np.ndarray
    insert_credit: np.ndarray
    insert_source: np.ndarray  # SOURCE_NAMES code
    insert_key: np.ndarray  # decision key (primary rows), -1 for overlays
    old_primary: np.ndarray  # per account: territory before (0 none)
    new_primary: np.ndarray  # per account: territory after (0 none)


def diff(routed: vector.Routed, current: Current, n: int, current_key: np.ndarray | None = None) -> Plan_:
    """``services.account_route``'s persistence rules, for every account at once: a current row
    that the decision does not want is closed, a wanted row that is not current is inserted; a
    manual primary row stays while the rules place the account nowhere. A primary row stays only
    while its whole decision holds (territory, source, the matched set and lock, the conflict
    flag): ``current_key`` is each current row's decision as a routing key (``decision_keys``)."""
    cur_terr = np.zeros(n, dtype=np.int64)
    cur_src = np.zeros(n, dtype=np.int64)
    cur_credit = np.zeros(n, dtype=np.int64)
    cur_pk = np.zeros(n, dtype=np.int64)
    cur_key = np.full(n, -1, dtype=np.int64)
    cur_conflict = np.zeros(n, dtype=bool)
    p = current.primary
    cur_terr[current.row[p]] = current.territory[p]
    cur_src[current.row[p]] = current.source[p]
    cur_credit[current.row[p]] = current.credit[p]
    cur_pk[current.row[p]] = current.pk[p]
    cur_conflict[current.row[p]] = current.conflict[p]
    if current_key is None:
        current_key = decision_keys(routed, current.decision)
    cur_key[current.row[p]] = current_key[p]

    want = routed.winner
    want_src = routed.source.astype(np.int64)
    kept_manual = (want == 0) & (cur_terr != 0) & (cur_src == _MANUAL_CODE)
    same_decision = (cur_key == routed.key) & (cur_conflict == routed.conflict)
    same = (cur_terr == want) & ((want == 0) | ((cur_src == want_src) & (cur_credit == 100) & same_decision))
    close_primary = (cur_terr != 0) & ~same & ~kept_manual
    insert_primary = (want != 0) & ~same

    # Overlay rows as one integer each: (account position, territory, credit).
    o = ~p
    territories, dense = np.unique(
        np.concatenate([current.territory[o], routed.overlay_territory]), return_inverse=True
    )
    dense = dense.reshape(-1)
    width = max(1, len(territories))

    def keys(rows: np.ndarray, at: np.ndarray, credits: np.ndarray) -> np.ndarray:
        return (rows * width + at) * 128 + np.clip(credits, 0, 127)

    split = int(o.sum())
    cur_o = keys(current.row[o], dense[:split], current.credit[o])
    want_o = keys(routed.overlay_rows, dense[split:], routed.overlay_credit)
    close_o = ~np.isin(cur_o, want_o) if len(cur_o) else np.zeros(0, dtype=bool)
    insert_o = ~np.isin(want_o, cur_o) if len(want_o) else np.zeros(0, dtype=bool)

    close = np.concatenate([cur_pk[close_primary], current.pk[o][close_o]])
    close_row = np.concatenate([np.flatnonzero(close_primary), current.row[o][close_o]])
    primary_rows = np.flatnonzero(insert_primary)
    overlay_at = np.flatnonzero(insert_o)
    new_primary = np.where(kept_manual, cur_terr, want)
    return Plan_(
        close=close,
        close_row=close_row,
        insert_row=np.concatenate([primary_rows, routed.overlay_rows[overlay_at]]),
        insert_territory=np.concatenate([want[primary_rows], routed.overlay_territory[overlay_at]]),
        insert_primary=np.concatenate([np.ones(len(primary_rows), bool), np.zeros(len(overlay_at), bool)]),
        insert_credit=np.concatenate([np.full(len(primary_rows), 100), routed.overlay_credit[overlay_at]]),
        insert_source=np.concatenate([want_src[primary_rows], np.full(len(overlay_at), _SOURCE_CODE["rule"])]),
        insert_key=np.concatenate([routed.key[primary_rows], np.full(len(overlay_at), -1)]),
        old_primary=cur_terr,
        new_primary=new_primary,
    )


# --- writing ---------------------------------------------------------------------------------

_PG_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
_COPY_COLUMNS = (
    "account_id, territory_id, plan_id, is_primary, credit_percent, source, decision_id, conflict, reason, valid_from"
)


def _copy_rows(account: np.ndarray, territory: np.ndarray, plan_id: int, primary: bool, credit: np.ndarray,
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


def _decision_rows(plan: TerritoryPlan, compiled: engine.CompiledPlan, routed: vector.Routed,
                   keys: np.ndarray, now: dt.datetime) -> list[RoutingDecision]:
    version = version_number(compiled.version)
    return [
        RoutingDecision(plan=plan, plan_version=version, matched=list(routed.matched[k]),
                        locked_territory_id=int(routed.lock[k]) or None, created_at=now)
        for k in keys.tolist()
    ]


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


def _copy_decisions(raw: Any, plan: TerritoryPlan, compiled: engine.CompiledPlan, routed: vector.Routed,
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
class Read:
    """What the run read, to hold its writes to: each account's row version (PostgreSQL) and the
    current rows it saw."""

    versions: np.ndarray | None  # aligned with the columns
    pk: np.ndarray  # the current rows read
    row: np.ndarray  # their account positions


def _stale_accounts(raw: Any, plan: TerritoryPlan, cols: vector.Columns, seen: Read, rows: np.ndarray,
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
            f"SELECT id, {_ROW_VERSION} FROM {Account._meta.db_table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE",  # noqa: S608
            [ids_sorted],
        ).fetchall()
        fresh = raw.execute(
            f"SELECT id, account_id, valid_from FROM {table} WHERE plan_id = %s AND valid_to IS NULL "  # noqa: S608
            "AND account_id = ANY(%s) FOR UPDATE",
            [plan.pk, ids_sorted],
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


def _write(raw: Any, plan: TerritoryPlan, cols: vector.Columns, routed: vector.Routed, work: Plan_,
           pick: np.ndarray, close_pick: np.ndarray, decision_of: Mapping[int, int], now: dt.datetime,
           seen: Read | None = None) -> np.ndarray:
    """Closes and inserts one chunk's rows: on PostgreSQL through ``raw`` (a psycopg connection,
    Django's own or a worker's), elsewhere through the ORM. With ``seen``, the accounts that
    changed after the run read them are left alone and their ids returned, to be routed again
    (a run never closes a row it did not read, nor writes from facts that moved)."""
    table = AccountTerritory._meta.db_table
    postgres = raw is not None
    skipped = np.zeros(0, dtype=np.int64)
    if seen is not None:
        touched = np.unique(np.concatenate([work.insert_row[pick], work.close_row[close_pick]]))
        stale_rows = _stale_accounts(raw, plan, cols, seen, touched, now) if touched.size else skipped
        if stale_rows.size:
            pick = pick[~np.isin(work.insert_row[pick], stale_rows)]
            close_pick = close_pick[~np.isin(work.close_row[close_pick], stale_rows)]
            skipped = cols.ids[stale_rows]
    close = work.close[close_pick]
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
    keys = work.insert_key[pick]
    rows = work.insert_row[pick]
    account = cols.ids[rows]
    territory = work.insert_territory[pick]
    primary = work.insert_primary[pick]
    credit = work.insert_credit[pick]
    source = work.insert_source[pick]
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
            parts.append(_copy_rows(account[at], territory[at], plan.pk, is_primary, credit[at],
                                    str(SOURCE_NAMES[code]), decision[at] if is_primary else None, conflict[at],
                                    micros))
    parts.append(struct.pack(">h", -1))
    with raw.cursor().copy(f"COPY {table} ({_COPY_COLUMNS}) FROM STDIN (FORMAT binary)") as copy:
        copy.write(b"".join(parts))
    return skipped


def _parallel(n: int) -> bool:
    """Whether to spread the work over worker connections: PostgreSQL, a large run, and nothing
    uncommitted on ours (a worker would not see it; tests run inside a transaction)."""
    return connection.vendor == "postgresql" and n >= PARALLEL_MIN and not connection.in_atomic_block


def _worker_connection() -> Any:
    return connection.get_new_connection(connection.get_connection_params())


def _write_all(plan: TerritoryPlan, compiled: engine.CompiledPlan, cols: vector.Columns, routed: vector.Routed,
               work: Plan_, now: dt.datetime, chunk_size: int, result: RerouteResult,
               progress: Any, seen: Read | None = None) -> list[int]:
    """The decisions first (one transaction), then the rows chunk by chunk, each chunk in its own
    transaction; on a large PostgreSQL run ``WORKERS`` connections write chunks side by side
    (index maintenance dominates the writing and runs in the database, one core per connection).
    Returns the accounts left alone because they changed after the run read them."""
    n = len(cols)
    keys = work.insert_key[work.insert_key >= 0]
    needed = np.unique(keys)
    result.decisions = int(needed.size)
    postgres = connection.vendor == "postgresql"
    parallel = _parallel(n)
    started = time.perf_counter()
    if not postgres:
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
    insert_chunk = chunk_of_row[work.insert_row]
    close_chunk = chunk_of_row[work.close_row]
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
                    stale.extend(_write(raw, plan, cols, routed, work, pick, close_pick, decision_of, now,
                                        seen).tolist())
            done(chunk)
        return stale

    def worker(mine: list[tuple[int, np.ndarray, np.ndarray]]) -> tuple[list[int], list[int]]:
        raw = _worker_connection()
        raw.autocommit = True
        try:
            finished, skipped = [], []
            for chunk, pick, close_pick in mine:
                if pick.size or close_pick.size:
                    with raw.transaction():  # autocommit connection: BEGIN ... COMMIT
                        skipped.extend(_write(raw, plan, cols, routed, work, pick, close_pick, decision_of, now,
                                              seen).tolist())
                finished.append(chunk)
            return finished, skipped
        finally:
            raw.close()

    def decisions_worker() -> None:  # the decisions go in beside the rows that point at them
        raw = _worker_connection()
        raw.autocommit = True
        try:
            with raw.transaction():
                _copy_decisions(raw, plan, compiled, routed, needed, ids, now)
        finally:
            raw.close()

    from concurrent.futures import ThreadPoolExecutor

    shares = [chunks[i::WORKERS] for i in range(WORKERS)]
    with ThreadPoolExecutor(max_workers=WORKERS + 1) as pool:
        pending = pool.submit(decisions_worker) if needed.size else None
        for finished, skipped in pool.map(worker, shares):
            stale.extend(skipped)
            for chunk in finished:
                done(chunk)
        if pending is not None:
            pending.result()
    return stale


def warm(plan: TerritoryPlan | None = None) -> None:
    """What a long-lived worker has ready before a re-route: pandas imported and, given a plan,
    its compiled index and every rule compiled for set-based routing."""
    import pandas  # noqa: F401

    if plan is not None:
        vector.for_plan(compiled_plan(plan=plan)).warm()


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
) -> RerouteResult:
    """Re-routes every account of the plan (no ids given), the accounts ``account_ids``, or
    the accounts a change to ``territory_ids`` can move; see the module doc. With
    ``dry_run`` nothing is written and the result tells what would change. Each chunk is
    committed on its own, so a failure keeps the chunks before it (a re-run finishes the work:
    only what still differs is written).

    People keep editing accounts while a run goes: a chunk leaves alone the accounts that changed
    after the run read them (``_stale_accounts``), and at the end those are routed again from
    their current facts (``settle``; without it they are only listed in ``result.stale``)."""
    now = now or timezone.now()
    clock = time.perf_counter()
    compiled = compiled_plan(plan=plan)
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
    else:
        scope = RoutingJob.Scope.FULL
        ids = None

    result = RerouteResult(plan_id=plan.pk, scope=scope, dry_run=dry_run)
    clock = result.lap("plan_and_scope", clock)
    cols, versions = read_facts(vplan.fields, ids)
    n = result.total = len(cols)
    clock = result.lap("read", clock)
    if job is not None:
        RoutingJob.objects.filter(pk=job.pk).update(total=n, processed=0, changed=0)
    routed = vector.route(vplan, cols)
    clock = result.lap("route", clock)
    current = read_current(plan, compiled, cols, ids)
    clock = result.lap("read_current", clock)
    work = diff(routed, current, n)
    _count(result, cols, work)
    clock = result.lap("diff", clock)

    if not dry_run:

        def progress(processed: int) -> None:
            if job is not None:
                RoutingJob.objects.filter(pk=job.pk).update(processed=processed, changed=result.changed)

        seen = Read(versions=versions, pk=current.pk, row=current.row)
        result.stale = sorted(set(_write_all(plan, compiled, cols, routed, work, now, chunk_size, result, progress,
                                             seen)))
        clock = result.lap("write", clock)
        if settle and result.stale:
            result.settled = _settle(plan, result.stale, now)
            clock = result.lap("settle", clock)
    else:
        keys = work.insert_key[work.insert_key >= 0]
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


def _count(result: RerouteResult, cols: vector.Columns, work: Plan_) -> None:
    n = len(cols)
    touched = np.zeros(n, dtype=bool)
    touched[work.insert_row] = True
    touched[work.close_row] = True
    result.changed = int(touched.sum())
    result.rows_closed = int(work.close.size)
    result.rows_inserted = int(work.insert_row.size)
    moved = np.flatnonzero(work.old_primary != work.new_primary)
    result.moved = int(moved.size)
    old, new = work.old_primary[moved], work.new_primary[moved]
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
                "from_id": int(work.old_primary[row]) or None,
                "to_id": int(work.new_primary[row]) or None,
            })


# --- jobs ------------------------------------------------------------------------------------


def reroute_job_start(
    *,
    plan: TerritoryPlan,
    scope: str,
    territory_ids: Iterable[int] | None = None,
    account_ids: Iterable[int] | None = None,
    dry_run: bool = False,
    by=None,
) -> RoutingJob:
    """Records a re-route job and queues it once the caller's transaction commits."""
    if scope not in SCOPES:
        raise ValueError(f"Unknown scope {scope!r}")
    params: dict[str, Any] = {}
    if scope == RoutingJob.Scope.TERRITORIES:
        params["territory_ids"] = sorted({int(t) for t in territory_ids or ()})
    elif scope == RoutingJob.Scope.ACCOUNTS:
        params["account_ids"] = sorted({int(a) for a in account_ids or ()})
    job = RoutingJob.objects.create(plan=plan, scope=scope, params=params, dry_run=dry_run, created_by=by)

    def enqueue() -> None:
        from django_q.tasks import async_task

        async_task("routing.tasks.reroute_job_run", job.pk, task_name=f"reroute-job-{job.pk}")

    transaction.on_commit(enqueue)
    return job


def reroute_job_run(*, job_id: int) -> RoutingJob | None:
    """Runs a queued job: running, then done with its result, or failed with the error. The job
    row is updated outside any transaction, so it survives a failed re-route."""
    job = RoutingJob.objects.select_related("plan").filter(pk=job_id).first()
    if job is None or job.status not in (RoutingJob.Status.QUEUED, RoutingJob.Status.FAILED):
        return job
    RoutingJob.objects.filter(pk=job.pk).update(status=RoutingJob.Status.RUNNING, started_at=timezone.now(), error="")
    try:
        params = job.params or {}
        kwargs: dict[str, Any] = {}
        if job.scope == RoutingJob.Scope.TERRITORIES:
            kwargs["territory_ids"] = [int(t) for t in params.get("territory_ids", [])]
        elif job.scope == RoutingJob.Scope.ACCOUNTS:
            kwargs["account_ids"] = [int(a) for a in params.get("account_ids", [])]
        result = plan_reroute(plan=job.plan, dry_run=job.dry_run, job=job, **kwargs)
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, then logged
        log.exception("Re-route job %s failed", job.pk)
        RoutingJob.objects.filter(pk=job.pk).update(
            status=RoutingJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
    else:
        RoutingJob.objects.filter(pk=job.pk).update(
            status=RoutingJob.Status.DONE,
            result=result.to_dict(),
            total=result.total,
            processed=result.processed,
            changed=result.changed,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job
