"""Account points for the map, clustered on the server.

Every account with a location, with where it sits in the active plan (its current primary row,
``routing.placement``'s definition, read here in one set-based join) and the attributes the map
filters on, is held per process as numpy columns (about 40 bytes an account: 40 MB for a million).
A viewport answer is then a few vectorised masks and one ``bincount`` over screen-sized grid
cells, whatever the number of accounts, so the browser never gets more than one feature per
cell (a few hundred).

The table is reloaded when the active plan, its version, or the newest account or placement row
changes (two index-only ``max(id)`` queries per request tell), and at the latest after
``MAP_POINTS_MAX_AGE`` seconds (edits of an account's location change no id).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import h3.api.numpy_int as h3int
import numpy as np
from django.conf import settings
from django.db import connection

from routing.models import AccountTerritory
from salesos.models import Account
from territories.models import Territory, TerritoryPlan

CELL_PX = 64  # a cluster gathers the accounts of one 64 x 64 px screen cell
PIN_ZOOM = 16  # from this zoom every account is a pin
PIN_LIMIT = 2000
MAX_LAT = 85.0511

# Size bands of the filter, by employees (index 0: unknown).
SIZE_BANDS: tuple[tuple[str, str, int, int], ...] = (
    ("1-49", "1–49 employees", 1, 49),
    ("50-249", "50–249", 50, 249),
    ("250-999", "250–999", 250, 999),
    ("1000-4999", "1,000–4,999", 1000, 4999),
    ("5000+", "5,000 or more", 5000, 2**31 - 1),
)
STATUSES = ("assigned", "unassigned", "locked")


def mercator_x(lon: Any) -> Any:
    return (np.asarray(lon, dtype=np.float64) + 180.0) / 360.0


def mercator_y(lat: Any) -> Any:
    lat = np.radians(np.clip(np.asarray(lat, dtype=np.float64), -MAX_LAT, MAX_LAT))
    return (1.0 - np.log(np.tan(lat) + 1.0 / np.cos(lat)) / math.pi) / 2.0


def _band_of(employees: np.ndarray) -> np.ndarray:
    bands = np.zeros(len(employees), dtype=np.int8)
    for i, (_, _, low, high) in enumerate(SIZE_BANDS, start=1):
        bands[(employees >= low) & (employees <= high)] = i
    return bands


@dataclass
class PointTable:
    """The located accounts, one numpy column per attribute, row i = one account."""

    stamp: tuple
    loaded_at: float
    ids: np.ndarray  # int64
    lon: np.ndarray  # float64
    lat: np.ndarray
    x: np.ndarray  # web mercator, 0..1
    y: np.ndarray
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
    _h3: dict[int, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def h3_cells(self, resolution: int) -> np.ndarray:
        """Each account's H3 cell at ``resolution`` (computed once per resolution)."""
        found = self._h3.get(resolution)
        if found is None:
            found = np.fromiter(
                (h3int.latlng_to_cell(a, b, resolution) for a, b in zip(self.lat, self.lon, strict=True)),
                dtype=np.uint64, count=len(self.lat),
            )
            self._h3[resolution] = found
        return found


_lock = threading.Lock()
_table: PointTable | None = None


def _stamp(plan: TerritoryPlan | None) -> tuple:
    with connection.cursor() as cursor:
        # Row ids come back after a rollback on SQLite; creation times (indexed) do not.
        cursor.execute(f"SELECT MAX(id), MAX(created_at) FROM {Account._meta.db_table}")
        newest_account = cursor.fetchone()
        cursor.execute(f"SELECT MAX(id) FROM {AccountTerritory._meta.db_table}")
        newest_row = cursor.fetchone()[0]
    return (connection.alias, connection.settings_dict["NAME"], plan.pk if plan else None,
            plan.version if plan else None, plan.created_at if plan else None, *newest_account, newest_row)


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    vocabulary = sorted(set(values))
    index = {v: i for i, v in enumerate(vocabulary)}
    return np.fromiter((index[v] for v in values), dtype=np.int16, count=len(values)), vocabulary


def _load(plan: TerritoryPlan | None, stamp: tuple) -> PointTable:
    account = Account._meta.db_table
    rows_table = AccountTerritory._meta.db_table
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    join = (
        f"LEFT JOIN {rows_table} r ON r.account_id = a.id AND r.plan_id = %s AND r.is_primary = {true} "
        "AND r.valid_to IS NULL"
    )
    sql = (
        "SELECT a.id, a.lon, a.lat, r.territory_id, a.locked_territory_id, SUBSTR(a.industry_code, 1, 2), "
        "a.employees, a.annual_revenue, a.potential, a.country, a.state "
        f"FROM {account} a {join} WHERE a.lat IS NOT NULL AND a.lon IS NOT NULL ORDER BY a.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [plan.pk if plan else 0])
        rows = cursor.fetchall()
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [()] * 11
    ids = np.fromiter(cols[0], dtype=np.int64, count=n)
    lon = np.fromiter(cols[1], dtype=np.float64, count=n)
    lat = np.fromiter(cols[2], dtype=np.float64, count=n)
    territory = np.fromiter((t if t is not None else -1 for t in cols[3]), dtype=np.int64, count=n)
    locked = np.fromiter((t is not None for t in cols[4]), dtype=bool, count=n)
    sector, sectors = _codes([s or "" for s in cols[5]])
    employees = np.fromiter((e if e is not None else -1 for e in cols[6]), dtype=np.int64, count=n)
    revenue = np.fromiter((float(v) if v is not None else 0.0 for v in cols[7]), dtype=np.float64, count=n)
    potential = np.fromiter((float(v) if v is not None else 0.0 for v in cols[8]), dtype=np.float64, count=n)
    country, countries = _codes([c or "" for c in cols[9]])
    state, states = _codes([s or "" for s in cols[10]])
    types = dict(Territory.objects.filter(plan=plan).values_list("pk", "type")) if plan else {}
    return PointTable(
        stamp=stamp, loaded_at=time.monotonic(), ids=ids, lon=lon, lat=lat, x=mercator_x(lon), y=mercator_y(lat),
        territory=territory, locked=locked, sector=sector, band=_band_of(employees), revenue=revenue,
        potential=potential, country=country, state=state, sectors=sectors, countries=countries, states=states,
        territory_type=types,
    )


def point_table(plan: TerritoryPlan | None) -> PointTable:
    """The located accounts with their placement in ``plan`` (the active plan), loaded once per
    process and reloaded when the data moved."""
    global _table
    stamp = _stamp(plan)
    max_age = getattr(settings, "MAP_POINTS_MAX_AGE", 600)
    table = _table
    if table is not None and table.stamp == stamp and time.monotonic() - table.loaded_at < max_age:
        return table
    with _lock:
        table = _table
        if table is None or table.stamp != stamp or time.monotonic() - table.loaded_at >= max_age:
            table = _table = _load(plan, stamp)
    return table


def point_table_clear() -> None:
    """Forget the loaded table (tests, and the benchmark's cold timing)."""
    global _table
    _table = None


# --- filtering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointFilter:
    """What the map shows. ``territories``: the ids the user may see (None: all, and the
    unassigned accounts); ``unassigned_visible``: whether accounts in no territory show."""

    territories: frozenset[int] | None = None
    unassigned_visible: bool = True
    statuses: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()
    bands: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    only: frozenset[int] | None = None  # a territory subtree chosen on the page


def mask_of(table: PointTable, flt: PointFilter) -> np.ndarray:
    """Rows the filter keeps (before the viewport)."""
    mask = np.ones(len(table), dtype=bool)
    assigned = table.territory >= 0
    if flt.territories is not None:
        visible = np.isin(table.territory, np.fromiter(flt.territories, dtype=np.int64))
        mask &= visible | (~assigned if flt.unassigned_visible else False)
    elif not flt.unassigned_visible:
        mask &= assigned
    if flt.only is not None:
        mask &= np.isin(table.territory, np.fromiter(flt.only, dtype=np.int64))
    if flt.statuses:
        keep = np.zeros(len(table), dtype=bool)
        if "assigned" in flt.statuses:
            keep |= assigned
        if "unassigned" in flt.statuses:
            keep |= ~assigned
        if "locked" in flt.statuses:
            keep |= table.locked
        mask &= keep
    if flt.sectors:
        codes = [i for i, s in enumerate(table.sectors) if s in flt.sectors]
        mask &= np.isin(table.sector, np.array(codes, dtype=np.int16))
    if flt.bands:
        wanted = [i for i, band in enumerate(SIZE_BANDS, start=1) if band[0] in flt.bands]
        mask &= np.isin(table.band, np.array(wanted, dtype=np.int8))
    if flt.types:
        ids = [t for t, kind in table.territory_type.items() if kind in flt.types]
        mask &= np.isin(table.territory, np.array(ids, dtype=np.int64))
    return mask


@dataclass(frozen=True)
class Viewport:
    west: float
    south: float
    east: float
    north: float
    zoom: int

    def mask(self, table: PointTable) -> np.ndarray:
        return (table.lon >= self.west) & (table.lon <= self.east) & (table.lat >= self.south) & (
            table.lat <= self.north)


def clusters(table: PointTable, flt: PointFilter, view: Viewport) -> dict[str, Any]:
    """Clusters and pins in the viewport: ``clusters`` = [[lon, lat, count], ...] at the mean
    position of their accounts, ``pins`` = [[account id, lon, lat, territory id or null], ...]
    for cells holding one account (every account from ``PIN_ZOOM``)."""
    rows = np.flatnonzero(mask_of(table, flt) & view.mask(table))
    total = int(len(rows))
    out: dict[str, Any] = {"zoom": view.zoom, "total": total, "clusters": [], "pins": [], "truncated": False}
    if not total:
        return out
    if view.zoom >= PIN_ZOOM:
        single = rows[:PIN_LIMIT]
        out["truncated"] = total > PIN_LIMIT
    else:
        cell = CELL_PX / (256.0 * 2**view.zoom)
        cx = np.floor(table.x[rows] / cell).astype(np.int64)
        cy = np.floor(table.y[rows] / cell).astype(np.int64)
        cx -= cx.min()
        cy -= cy.min()
        height = int(cy.max()) + 1
        key = cx * height + cy
        # Cells are compacted to those holding points, so the arrays stay viewport-sized.
        cells, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
        lon_sum = np.bincount(inverse, weights=table.lon[rows])
        lat_sum = np.bincount(inverse, weights=table.lat[rows])
        many = counts > 1
        out["clusters"] = [
            [round(float(lo), 5), round(float(la), 5), int(c)]
            for lo, la, c in zip(lon_sum[many] / counts[many], lat_sum[many] / counts[many], counts[many],
                                 strict=True)
        ]
        single = rows[~many[inverse]]
    out["pins"] = [
        [int(i), round(float(lo), 5), round(float(la), 5), int(t) if t >= 0 else None]
        for i, lo, la, t in zip(table.ids[single], table.lon[single], table.lat[single], table.territory[single],
                                strict=True)
    ]
    return out
