"""The map's point table: every located account with where it sits in the active plan (its
current primary row, ``territories.placement``'s definition, read here in one set-based join) and the
attributes the map filters on, held per process as numpy columns (about 40 bytes an account:
40 MB for a million).

The table follows the database by what changed, not by reloading on every write:

* a new plan, plan version or database: a full load;
* new accounts (ids above the newest one loaded): only those accounts are read and appended;
* new placement rows (ids above the newest one loaded; a re-route closes the rows that change and
  inserts their successors): only the accounts those rows name are read again and updated in place;
* a change touching more than ``REFRESH_SHARE`` of the table, or ids that went back (a rollback):
  a full load, which is then cheaper than the merge.

Two index-only ``max(id)`` queries per request tell which case holds. What no new id announces (an
account's location edited, an account deleted, a row closed without a successor) shows at the
latest after ``MAP_POINTS_MAX_AGE`` seconds, when the table is loaded again.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

import h3.api.numpy_int as h3int
import numpy as np
from django.conf import settings
from django.db import connection

from analytics.map_index import GRID_BITS, TableIndex, table_index
from salesos.models import Account
from territories.locks import LOCK_TABLE
from territories.models import AccountTerritory, Territory, TerritoryPlan

MAX_LAT = 85.0511
# Cells per axis of the finest cluster grid (``GRID_BITS``, a power of two): 64 px cells at zoom 16.
# A coarser zoom's cell is a right shift of it, cheaper than dividing the coordinates again.
REFRESH_SHARE = 0.2  # above this share of changed accounts, a full load beats the merge
REFRESH_MIN = 100  # ... and below this many, the merge always wins
ID_CHUNK = 5_000

# Size bands of the filter, by employees (index 0: unknown).
SIZE_BANDS: tuple[tuple[str, str, int, int], ...] = (
    ("1-49", "1–49 employees", 1, 49),
    ("50-249", "50–249", 50, 249),
    ("250-999", "250–999", 250, 999),
    ("1000-4999", "1,000–4,999", 1000, 4999),
    ("5000+", "5,000 or more", 5000, 2**31 - 1),
)


def mercator_x(lon: Any) -> Any:
    return (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0


def mercator_y(lat: Any) -> Any:
    lat = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT))
    return (1.0 - np.log(np.tan(lat) + 1.0 / np.cos(lat)) / math.pi) / 2.0


def grid_of(mercator: Any) -> np.ndarray:
    """The finest grid cell of web-mercator coordinates (0..1)."""
    cells = np.floor(np.asarray(mercator, dtype=np.float64) * (1 << GRID_BITS))
    return np.clip(cells, 0, (1 << GRID_BITS) - 1).astype(np.uint32)


def _band_of(employees: np.ndarray) -> np.ndarray:
    bands = np.zeros(len(employees), dtype=np.int8)
    for i, (_, _, low, high) in enumerate(SIZE_BANDS, start=1):
        bands[(employees >= low) & (employees <= high)] = i
    return bands


# Columns that are per-account arrays, in the order a merge treats them alike.
ROW_COLUMNS = (
    "ids",
    "lon",
    "lat",
    "x",
    "y",
    "gx",
    "gy",
    "territory",
    "locked",
    "sector",
    "band",
    "revenue",
    "potential",
    "country",
    "state",
)


@dataclass
class PointTable:
    """The located accounts, one numpy column per attribute, row i = one account (ids ascending)."""

    base: tuple  # database, plan, plan version: a change means a full load
    marks: tuple  # newest account id, newest creation time, newest placement row id
    loaded_at: float
    ids: np.ndarray  # int64
    lon: np.ndarray  # float64
    lat: np.ndarray
    x: np.ndarray  # web mercator, 0..1
    y: np.ndarray
    gx: np.ndarray  # uint32, the cell of the finest cluster grid (``GRID_BITS``) holding the account
    gy: np.ndarray
    territory: np.ndarray  # int64, -1 = unassigned
    locked: np.ndarray  # bool
    sector: np.ndarray  # int16 index into ``sectors`` (-1 none)
    band: np.ndarray  # int8 index into SIZE_BANDS + 1 (0 unknown)
    revenue: np.ndarray  # float64 annual revenue, 0 when unknown
    potential: np.ndarray  # float64 potential (TAM), 0 when unknown
    country: np.ndarray  # int16 index into ``countries``
    state: np.ndarray  # int16 index into ``states``
    sectors: list[str]
    countries: list[str]
    states: list[str]
    territory_type: dict[int, str] = field(default_factory=dict)
    refreshes: int = 0  # incremental refreshes since the full load
    index: TableIndex | None = None  # built by ``point_table`` before any request reads the table
    _h3: dict[int, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def h3_cells(self, resolution: int) -> np.ndarray:
        """Each account's H3 cell at ``resolution`` (computed once per resolution)."""
        found = self._h3.get(resolution)
        if found is None:
            found = self._h3[resolution] = _cells(self.lat, self.lon, resolution)
        return found


def _cells(lat: np.ndarray, lon: np.ndarray, resolution: int) -> np.ndarray:
    return np.fromiter(
        (h3int.latlng_to_cell(a, b, resolution) for a, b in zip(lat, lon, strict=True)), dtype=np.uint64, count=len(lat)
    )


# --- reading ----------------------------------------------------------------------------------


def _marks() -> tuple:
    with connection.cursor() as cursor:
        # Row ids come back after a rollback on SQLite; creation times (indexed) do not.
        cursor.execute(f"SELECT MAX(id), MAX(created_at) FROM {Account._meta.db_table}")
        newest_id, newest_created = cursor.fetchone()
        cursor.execute(f"SELECT MAX(id) FROM {AccountTerritory._meta.db_table}")
        newest_row = cursor.fetchone()[0]
    return (newest_id or 0, newest_created, newest_row or 0)


def _base(plan: TerritoryPlan | None) -> tuple:
    return (
        connection.alias,
        connection.settings_dict["NAME"],
        plan.pk if plan else None,
        plan.version if plan else None,
        plan.created_at if plan else None,
    )


def _select(plan: TerritoryPlan | None, where: str, params: list) -> list[tuple]:
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    sql = (
        "SELECT a.id, a.lon, a.lat, r.territory_id, lk.territory_id, SUBSTR(a.industry_code, 1, 2), "
        "a.employees, a.annual_revenue, a.potential, a.country, a.state "
        f"FROM {Account._meta.db_table} a LEFT JOIN {LOCK_TABLE} lk ON lk.account_id = a.id "
        f"LEFT JOIN {AccountTerritory._meta.db_table} r ON r.account_id = a.id "
        f"AND r.plan_id = %s AND r.is_primary = {true} AND r.valid_to IS NULL "
        f"WHERE a.lat IS NOT NULL AND a.lon IS NOT NULL {where} ORDER BY a.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [plan.pk if plan else 0, *params])
        return cursor.fetchall()


def _encode(values: list[str], vocabulary: list[str]) -> np.ndarray:
    """Codes of ``values`` in ``vocabulary``, which grows by the values it lacks."""
    index = {v: i for i, v in enumerate(vocabulary)}
    for v in values:
        if v not in index:
            index[v] = len(vocabulary)
            vocabulary.append(v)
    return np.fromiter((index[v] for v in values), dtype=np.int16, count=len(values))


def _columns(rows: list[tuple], sectors: list[str], countries: list[str], states: list[str]) -> dict[str, Any]:
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 11
    lon = np.fromiter(cols[1], dtype=np.float64, count=n)
    lat = np.fromiter(cols[2], dtype=np.float64, count=n)
    employees = np.fromiter((e if e is not None else -1 for e in cols[6]), dtype=np.int64, count=n)
    x, y = mercator_x(lon), mercator_y(lat)
    return {
        "ids": np.fromiter(cols[0], dtype=np.int64, count=n),
        "lon": lon,
        "lat": lat,
        "x": x,
        "y": y,
        "gx": grid_of(x),
        "gy": grid_of(y),
        "territory": np.fromiter((t if t is not None else -1 for t in cols[3]), dtype=np.int64, count=n),
        "locked": np.fromiter((t is not None for t in cols[4]), dtype=bool, count=n),
        "sector": _encode([s or "" for s in cols[5]], sectors),
        "band": _band_of(employees),
        "revenue": np.fromiter((float(v) if v is not None else 0.0 for v in cols[7]), dtype=np.float64, count=n),
        "potential": np.fromiter((float(v) if v is not None else 0.0 for v in cols[8]), dtype=np.float64, count=n),
        "country": _encode([c or "" for c in cols[9]], countries),
        "state": _encode([s or "" for s in cols[10]], states),
    }


def _load(plan: TerritoryPlan | None, base: tuple, marks: tuple) -> PointTable:
    sectors: list[str] = []
    countries: list[str] = []
    states: list[str] = []
    cols = _columns(_select(plan, "", []), sectors, countries, states)
    types = dict(Territory.objects.filter(plan=plan).values_list("pk", "type")) if plan else {}
    return PointTable(
        base=base,
        marks=marks,
        loaded_at=time.monotonic(),
        sectors=sectors,
        countries=countries,
        states=states,
        territory_type=types,
        **cols,
    )


def _changed_accounts(plan: TerritoryPlan | None, after_row: int, limit: int) -> list[int] | None:
    """Accounts named by placement rows newer than ``after_row`` in the plan (None: more than
    ``limit``, a full load is cheaper)."""
    if plan is None:
        return []
    found = (
        AccountTerritory.objects.filter(pk__gt=after_row, plan=plan)
        .order_by()
        .values_list("account_id", flat=True)
        .distinct()[: limit + 1]
    )
    ids = sorted(found)
    return None if len(ids) > limit else ids


def _refresh(table: PointTable, plan: TerritoryPlan | None, marks: tuple) -> PointTable | None:
    """The table with the new accounts appended and the re-placed ones read again, or None when a
    full load is due (ids went back, or too much changed)."""
    old_account, old_created, old_row = table.marks
    new_account, new_created, new_row = marks
    if new_account < old_account or new_row < old_row or (new_account == old_account and new_created != old_created):
        return None
    limit = max(REFRESH_MIN, int(len(table) * REFRESH_SHARE))
    changed = _changed_accounts(plan, old_row, limit) if new_row > old_row else []
    if changed is None:
        return None
    changed = [a for a in changed if a <= old_account]  # the newer ones are read as new accounts below
    rows: list[tuple] = []
    for start in range(0, len(changed), ID_CHUNK):
        part = changed[start : start + ID_CHUNK]
        rows.extend(_select(plan, f"AND a.id IN ({', '.join(['%s'] * len(part))})", part))
    if new_account > old_account:
        rows.extend(_select(plan, "AND a.id > %s", [old_account]))
    if len(rows) > limit:
        return None
    sectors, countries, states = list(table.sectors), list(table.countries), list(table.states)
    fresh = _columns(rows, sectors, countries, states)
    # Drop every account read again (and any changed account no longer located), then put the
    # fresh rows in by id.
    gone = np.isin(table.ids, np.asarray(changed, dtype=np.int64))
    keep = ~gone
    merged_ids = np.concatenate([table.ids[keep], fresh["ids"]])
    order = np.argsort(merged_ids, kind="stable")
    merged: dict[str, Any] = {
        name: np.concatenate([getattr(table, name)[keep], fresh[name]])[order] for name in ROW_COLUMNS
    }
    cells = {
        res: np.concatenate([found[keep], _cells(fresh["lat"], fresh["lon"], res)])[order]
        for res, found in table._h3.items()
    }
    return replace(
        table,
        marks=marks,
        sectors=sectors,
        countries=countries,
        states=states,
        refreshes=table.refreshes + 1,
        index=None,
        _h3=cells,
        **merged,
    )


_lock = threading.Lock()
_table: PointTable | None = None


def point_table(plan: TerritoryPlan | None) -> PointTable:
    """The located accounts with their placement in ``plan`` (the active plan), loaded once per
    process and brought up to date by what changed (see the module doc)."""
    global _table
    base, marks = _base(plan), _marks()
    max_age = getattr(settings, "MAP_POINTS_MAX_AGE", 600)

    def current(t: PointTable | None) -> bool:
        return t is not None and t.base == base and t.marks == marks and time.monotonic() - t.loaded_at < max_age

    table = _table
    if current(table):
        assert table is not None
        return table
    with _lock:
        table = _table
        if current(table):
            assert table is not None
            return table
        refreshed = None
        if table is not None and table.base == base and time.monotonic() - table.loaded_at < max_age:
            refreshed = _refresh(table, plan, marks)
        table = refreshed or _load(plan, base, marks)
        table.index = table_index(table.gx, table.gy, table.territory, table.locked, table.lon, table.lat)
        _table = table
    return table


def point_table_clear() -> None:
    """Forget the loaded table (tests, and the benchmark's cold timing)."""
    global _table
    _table = None
