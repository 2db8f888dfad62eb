"""Reading what a re-route needs: the routable fields of the accounts in scope, column by column
(on PostgreSQL one query per half of the table, its text parsed by pandas), each account's row
version, and the plan's current rows, as arrays."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection

from routing import engine
from routing.batch import workers
from routing.engine import vector
from salesos.models import Account
from territories.locks import LOCK_TABLE, LOCK_VALUE
from territories.models import AccountTerritory, TerritoryPlan

ID_CHUNK_SIZE = 5_000  # ids per query when reading a list of accounts (SQL parameter limits)

MANUAL = AccountTerritory.Source.MANUAL

# Row sources as small codes: vector.SOURCES (None, rule, named, lock) then manual.
SOURCE_NAMES: tuple[str | None, ...] = (*vector.SOURCES, MANUAL.value)
SOURCE_CODE = {name: code for code, name in enumerate(SOURCE_NAMES)}
MANUAL_CODE = SOURCE_CODE[MANUAL.value]


def _columns_of(fields: Iterable[str]) -> list[tuple[str, str]]:
    """(field, Account column) for the fields to read, text first."""
    names = sorted(fields, key=lambda n: (engine.FIELDS[n].type in ("integer", "money"), n))
    return [(name, engine.COLUMNS[name]) for name in names]


def read_columns(fields: Iterable[str], ids: Sequence[int] | None = None) -> vector.Columns:
    """The accounts (every one, or these ids) as ``vector.Columns``."""
    return read_facts(fields, ids)[0]


# An account's lock is a row of its own (``territories.AccountLock``), read with the facts through
# this join; it names no column the account table has, so the account's columns stay unqualified.
ACCOUNTS = Account._meta.db_table
LOCK_JOIN = f"LEFT JOIN {LOCK_TABLE} AS lk ON lk.account_id = {ACCOUNTS}.id"
# The row version of an account on PostgreSQL: the ids of the transactions that wrote its row and
# its lock, which every update of either changes. Read with the facts, it tells at write time
# whether the account changed since (see ``write._stale_accounts``). Use with ``LOCK_JOIN``.
ROW_VERSION = f"hashtextextended({ACCOUNTS}.xmin::text || ':' || COALESCE(lk.xmin::text, ''), 0)"


def read_facts(fields: Iterable[str], ids: Sequence[int] | None = None,
               id_range: tuple[int, int] | None = None) -> tuple[vector.Columns, np.ndarray | None]:
    """The accounts (every one, these ``ids``, or those with ids in ``id_range``, both ends
    included: a shard) as ``vector.Columns`` and, on PostgreSQL, each one's row version (aligned
    with ``Columns.ids``) read in the same statement as its facts."""
    columns = _columns_of(fields)
    postgres = connection.vendor == "postgresql"
    if ids is None and postgres:
        return _read_whole_table(columns, id_range)
    if postgres:  # a list of accounts: one statement with the ids as one array parameter
        return _read_whole_table(columns, ids=ids)
    # Other databases (no row versions): through the ORM, the lock by its reverse relation.
    wanted = ["id", LOCK_VALUE, *(column for _, column in columns)]
    qs = Account.objects.order_by()
    rows: list[tuple] = []
    if ids is None:
        if id_range is not None:
            qs = qs.filter(pk__gte=id_range[0], pk__lte=id_range[1])
        rows = list(qs.values_list(*wanted))
    else:
        for start in range(0, len(ids), ID_CHUNK_SIZE):
            rows.extend(qs.filter(pk__in=ids[start : start + ID_CHUNK_SIZE]).values_list(*wanted))
    records = [
        {"id": row[0], "locked_territory_id": row[1], **{name: row[i + 2] for i, (name, _) in enumerate(columns)}}
        for row in rows
    ]
    cols = vector.Columns.from_records(records, [name for name, _ in columns])
    return cols, None


def _no_columns(columns: list[tuple[str, str]]) -> vector.Columns:
    return vector.Columns.from_records([], [name for name, _ in columns])


def _read_whole_table(columns: list[tuple[str, str]], id_range: tuple[int, int] | None = None,
                      ids: Sequence[int] | None = None) -> tuple[vector.Columns, np.ndarray]:
    """Every account (or those with ids in ``id_range``, or the accounts ``ids``) in one query,
    parsed by pandas' C reader: text columns come back as codes into their distinct values, money
    as integer cents computed by the database (exact)."""
    import pandas as pd

    # Every field as CSV text (NULL as an empty field; concat_ws would drop it), the whole table as
    # one text value built by the server and parsed by pandas' C reader: a COPY would cost a Python
    # iteration per row (measured 1.5 s against 1.0 s for a million accounts).
    fields_sql = ["id::text", "COALESCE(lk.territory_id, 0)::text"]
    tail = [f"{ROW_VERSION}::text"]  # the row version, last
    for name, column in columns:
        f = engine.FIELDS[name]
        if f.type in engine.fields.NUMBER_TYPES:
            fields_sql.append(f"COALESCE((({column}) * {vector.money_scale(f.type)})::bigint::text, '')")
        else:
            fields_sql.append(f"COALESCE('\"' || replace({column}, '\"', '\"\"') || '\"', '')")
    sql = (
        f"SELECT string_agg(concat_ws(',', {', '.join(fields_sql + tail)}), E'\\n') "  # noqa: S608 - our columns
        f"FROM {ACCOUNTS} {LOCK_JOIN} WHERE id BETWEEN %s AND %s"
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

    if ids is not None:
        if not len(ids):
            return _no_columns(columns), np.zeros(0, dtype=np.int64)
        with connection.cursor() as cursor:
            cursor.execute(sql.replace("WHERE id BETWEEN %s AND %s", "WHERE id = ANY(%s::bigint[])"),
                           [[int(i) for i in ids]])
            text = cursor.fetchone()[0]
        if not text:
            return _no_columns(columns), np.zeros(0, dtype=np.int64)
        return _frame_columns(parse(text), columns, numbers, version_at)
    with connection.cursor() as cursor:
        if id_range is None:
            cursor.execute(f"SELECT min(id), max(id) FROM {Account._meta.db_table}")  # noqa: S608
        else:
            cursor.execute(f"SELECT min(id), max(id) FROM {Account._meta.db_table} WHERE id BETWEEN %s AND %s",  # noqa: S608
                           list(id_range))
        low, high = cursor.fetchone()
    if low is None:
        return _no_columns(columns), np.zeros(0, dtype=np.int64)
    if high - low < workers.PARALLEL_MIN or connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(sql, [low, high])
            text = cursor.fetchone()[0]
        if not text:
            return _no_columns(columns), np.zeros(0, dtype=np.int64)
        frame = parse(text)
    else:  # two halves side by side: the database builds each on its own core
        middle = (low + high) // 2

        def part(bounds: tuple[int, int]) -> Any:
            raw = workers.worker_connection()
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
    return _frame_columns(frame, columns, numbers, version_at)


def _frame_columns(frame: Any, columns: list[tuple[str, str]], numbers: set[int],
                   version_at: int) -> tuple[vector.Columns, np.ndarray]:
    import pandas as pd

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
class CurrentRows:
    """The scope's current rows, as arrays."""

    pk: np.ndarray
    row: np.ndarray  # position of the account in the columns
    territory: np.ndarray
    primary: np.ndarray
    credit: np.ndarray
    source: np.ndarray  # SOURCE_NAMES code
    decision: np.ndarray  # RoutingDecision id (0 none)
    conflict: np.ndarray  # bool


def read_current(plan: TerritoryPlan, compiled: engine.PlanIndex, cols: vector.Columns,
                 ids: Sequence[int] | None, id_range: tuple[int, int] | None = None) -> CurrentRows:
    """The current rows of the plan (of these accounts), found through the (territory, valid_to)
    index for a whole plan and the account-led indexes for a list of accounts."""
    wanted = ("pk", "account_id", "territory_id", "is_primary", "credit_percent", "decision_id", "conflict", "source")
    qs = AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True).order_by()
    rows: list[tuple] = []
    if ids is None and id_range is None and connection.vendor == "postgresql":
        table, source = _read_current_copy(plan, sorted(compiled.nodes))
    elif ids is not None and connection.vendor == "postgresql":
        table, source = _read_current_copy(plan, [int(i) for i in ids], by_account=True)
    else:
        if id_range is not None:  # a shard: one range over the account-led index
            rows = list(qs.filter(account_id__gte=id_range[0], account_id__lte=id_range[1]).values_list(*wanted))
        elif ids is None:
            rows = list(qs.filter(territory_id__in=sorted(compiled.nodes)).values_list(*wanted))
        else:
            for start in range(0, len(ids), ID_CHUNK_SIZE):
                rows.extend(qs.filter(account_id__in=ids[start : start + ID_CHUNK_SIZE]).values_list(*wanted))
        table = np.asarray([[v or 0 for v in r[:7]] for r in rows], dtype=np.int64).reshape(-1, 7)
        source = np.asarray([SOURCE_CODE.get(r[7], 1) for r in rows], dtype=np.int64)
    order = np.argsort(cols.ids, kind="stable")
    sorted_ids = cols.ids[order]
    at = np.searchsorted(sorted_ids, table[:, 1]) if len(sorted_ids) else np.zeros(len(table), dtype=np.int64)
    known = at < len(sorted_ids)
    known[known] = sorted_ids[at[known]] == table[known, 1]
    # Rows of accounts outside the columns (deleted meanwhile) are left alone.
    return CurrentRows(
        pk=table[known, 0],
        row=order[at[known]],
        territory=table[known, 2],
        primary=table[known, 3].astype(bool),
        credit=table[known, 4],
        source=source[known],
        decision=table[known, 5],
        conflict=table[known, 6].astype(bool),
    )


def _read_current_copy(plan: TerritoryPlan, keys: list[int], *,
                       by_account: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The plan's current rows in these territories (or of these accounts, ``by_account``), one
    COPY with the keys as one array parameter."""
    import pandas as pd

    buffer = io.BytesIO()
    key = "account_id" if by_account else "territory_id"
    sql = (
        "COPY (SELECT id, account_id, territory_id, is_primary::int, credit_percent, "  # noqa: S608
        "COALESCE(decision_id, 0), conflict::int, source "
        f"FROM {AccountTerritory._meta.db_table} WHERE {key} = ANY(%s::bigint[]) AND valid_to IS NULL "
        "AND plan_id = %s) TO STDOUT (FORMAT csv)"
    )
    with connection.cursor() as cursor, cursor.connection.cursor().copy(sql, [keys, plan.pk]) as copy:
        for data in copy:
            buffer.write(data)
    if not buffer.tell():
        return np.zeros((0, 7), dtype=np.int64), np.zeros(0, dtype=np.int64)
    buffer.seek(0)
    frame = pd.read_csv(buffer, header=None, dtype={i: np.int64 for i in range(7)} | {7: object})
    codes = {name: code for name, code in SOURCE_CODE.items() if name is not None}
    return frame[list(range(7))].to_numpy(dtype=np.int64), frame[7].map(codes).fillna(1).to_numpy(dtype=np.int64)
