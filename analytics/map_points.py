"""Account points for the map, clustered on the server.

The located accounts are held per process as numpy columns (``analytics.map_table``: loaded
once, then brought up to date by what changed) with two indexes (``analytics.map_index``): a
Z-order of their cells and, for the coarse zooms, the accounts counted per cell and territory.
A viewport answer reads only what is in view through them and counts it into screen-sized grid
cells with one ``bincount``, so the browser never gets more than one feature per cell (a few
hundred), and the time follows the view, not the number of accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analytics.map_index import GRID_BITS, TableIndex, cell_bits, table_index
from analytics.map_table import (
    SIZE_BANDS,
    PointTable,
    grid_of,
    mercator_x,
    mercator_y,
    point_table,
    point_table_clear,
)

__all__ = [
    "SIZE_BANDS",
    "STATUSES",
    "PointFilter",
    "PointTable",
    "Viewport",
    "clusters",
    "keep_of",
    "mask_of",
    "mercator_x",
    "mercator_y",
    "point_table",
    "point_table_clear",
]

CELL_PX = 64  # a cluster gathers the accounts of one 64 x 64 px screen cell
PIN_ZOOM = 16  # from this zoom every account is a pin
PIN_LIMIT = 2000
DENSE_CELLS = 1 << 20  # grids up to this many cells are counted densely
STATUSES = ("assigned", "unassigned", "locked")


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


def keep_of(
    table: PointTable,
    flt: PointFilter,
    territory: np.ndarray,
    locked: np.ndarray,
    sector: np.ndarray | None = None,
    band: np.ndarray | None = None,
) -> np.ndarray:
    """Which of the given accounts (or groups of accounts sharing a territory and a lock) the
    filter keeps: the one reading of the filter, for the point table and its cell groups alike.
    ``sector`` and ``band`` are needed only when the filter names sectors or size bands."""
    mask = np.ones(len(territory), dtype=bool)
    assigned = territory >= 0
    if flt.territories is not None:
        visible = np.isin(territory, np.fromiter(flt.territories, dtype=np.int64))
        mask &= visible | (~assigned if flt.unassigned_visible else False)
    elif not flt.unassigned_visible:
        mask &= assigned
    if flt.only is not None:
        mask &= np.isin(territory, np.fromiter(flt.only, dtype=np.int64))
    if flt.statuses:
        keep = np.zeros(len(territory), dtype=bool)
        if "assigned" in flt.statuses:
            keep |= assigned
        if "unassigned" in flt.statuses:
            keep |= ~assigned
        if "locked" in flt.statuses:
            keep |= locked
        mask &= keep
    if flt.sectors:
        assert sector is not None, "a sector filter reads accounts, not groups"
        codes = [i for i, s in enumerate(table.sectors) if s in flt.sectors]
        mask &= np.isin(sector, np.array(codes, dtype=np.int16))
    if flt.bands:
        assert band is not None, "a size filter reads accounts, not groups"
        wanted = [i for i, found in enumerate(SIZE_BANDS, start=1) if found[0] in flt.bands]
        mask &= np.isin(band, np.array(wanted, dtype=np.int8))
    if flt.types:
        ids = [t for t, kind in table.territory_type.items() if kind in flt.types]
        mask &= np.isin(territory, np.array(ids, dtype=np.int64))
    return mask


def mask_of(table: PointTable, flt: PointFilter) -> np.ndarray:
    """Rows the filter keeps (before the viewport)."""
    return keep_of(table, flt, table.territory, table.locked, table.sector, table.band)


@dataclass(frozen=True)
class Viewport:
    west: float
    south: float
    east: float
    north: float
    zoom: int

    def mask(self, table: PointTable) -> np.ndarray:
        return (
            (table.lon >= self.west) & (table.lon <= self.east) & (table.lat >= self.south) & (table.lat <= self.north)
        )

    def mask_rows(self, table: PointTable, rows: np.ndarray) -> np.ndarray:
        lon, lat = table.lon[rows], table.lat[rows]
        return (lon >= self.west) & (lon <= self.east) & (lat >= self.south) & (lat <= self.north)


def _index(table: PointTable) -> TableIndex:
    if table.index is None:  # a table not made by ``point_table`` (tests)
        table.index = table_index(table.gx, table.gy, table.territory, table.locked, table.lon, table.lat)
    return table.index


def _cells_in_view(view: Viewport, bits: int) -> tuple[int, int, int, int]:
    """The first and last cell columns and rows of the grid with ``bits`` bits per axis that the
    viewport touches (rows count from the north)."""
    shift = GRID_BITS - bits
    x0, x1 = (int(grid_of(mercator_x(v))) >> shift for v in (view.west, view.east))
    y0, y1 = (int(grid_of(mercator_y(v))) >> shift for v in (view.north, view.south))
    return x0, x1, y0, y1


def _pins(table: PointTable, rows: np.ndarray) -> list[list]:
    return [
        [int(i), round(float(lo), 5), round(float(la), 5), int(t) if t >= 0 else None]
        for i, lo, la, t in zip(table.ids[rows], table.lon[rows], table.lat[rows], table.territory[rows], strict=True)
    ]


def _per_cell(key: np.ndarray, size: int, count: np.ndarray | None, lon: np.ndarray, lat: np.ndarray):
    """Accounts and coordinate sums per occupied cell (``key`` numbers the cells of the view, in
    ``size`` cells; ``count``: accounts per entry, None for one each), in cell order, and for
    each entry whether its cell holds one account only."""
    if size <= DENSE_CELLS:
        # A screen's grid: counted straight into its cells (no sort).
        per_cell = np.bincount(key, weights=count, minlength=size)
        occupied = np.flatnonzero(per_cell)
        counts = per_cell[occupied]
        lon_sum = np.bincount(key, weights=lon, minlength=size)[occupied]
        lat_sum = np.bincount(key, weights=lat, minlength=size)[occupied]
        alone = per_cell[key] == 1
    else:  # a bounding box far larger than a screen: cells compacted to those holding points
        _, inverse, _ = np.unique(key, return_inverse=True, return_counts=True)
        counts = np.bincount(inverse, weights=count)
        lon_sum = np.bincount(inverse, weights=lon)
        lat_sum = np.bincount(inverse, weights=lat)
        alone = counts[inverse] == 1
    return np.rint(counts).astype(np.int64), lon_sum, lat_sum, alone


def clusters(table: PointTable, flt: PointFilter, view: Viewport) -> dict[str, Any]:
    """Clusters and pins in the viewport: ``clusters`` = [[lon, lat, count], ...] at the mean
    position of their accounts, ``pins`` = [[account id, lon, lat, territory id or null], ...]
    for cells holding one account (every account from ``PIN_ZOOM``, in the exact bounding box).

    Below ``PIN_ZOOM`` an account is in view when its 64 px cell touches the viewport, so a
    cluster is whole or absent. The answer reads the table's indexes (``analytics.map_index``):
    up to ``GROUPED_MAX_ZOOM`` the per-cell groups (unless the filter names sectors or size
    bands, which groups do not keep), above it the accounts of the covering index ranges."""
    index = _index(table)
    out: dict[str, Any] = {"zoom": view.zoom, "total": 0, "clusters": [], "pins": [], "truncated": False}
    if view.zoom >= PIN_ZOOM:
        x0, x1, y0, y1 = _cells_in_view(view, GRID_BITS)
        rows = index.z.rows_in(x0, x1, y0, y1, GRID_BITS)
        rows = rows[
            view.mask_rows(table, rows)
            & keep_of(table, flt, table.territory[rows], table.locked[rows], table.sector[rows], table.band[rows])
        ]
        out["total"] = int(len(rows))
        out["truncated"] = len(rows) > PIN_LIMIT
        out["pins"] = _pins(table, rows[:PIN_LIMIT])
        return out
    bits = cell_bits(view.zoom)
    x0, x1, y0, y1 = _cells_in_view(view, bits)
    height, size = y1 - y0 + 1, (x1 - x0 + 1) * (y1 - y0 + 1)
    groups = index.groups.get(view.zoom) if not (flt.sectors or flt.bands) else None
    if groups is not None:
        g = groups
        picked = np.flatnonzero((g.cx >= x0) & (g.cx <= x1) & (g.cy >= y0) & (g.cy <= y1))
        picked = picked[keep_of(table, flt, g.territory[picked], g.locked[picked])]
        key = (g.cx[picked] - x0) * height + (g.cy[picked] - y0)
        counts, lon_sum, lat_sum, alone = _per_cell(
            key, size, g.count[picked].astype(np.float64), g.lon_sum[picked], g.lat_sum[picked]
        )
        single = np.sort(g.first[picked][alone])
    else:
        shift = GRID_BITS - bits
        rows = index.z.rows_in(x0, x1, y0, y1, bits)
        cx = (table.gx[rows] >> shift).astype(np.int64)
        cy = (table.gy[rows] >> shift).astype(np.int64)
        inside = (cx >= x0) & (cx <= x1) & (cy >= y0) & (cy <= y1)
        inside &= keep_of(table, flt, table.territory[rows], table.locked[rows], table.sector[rows], table.band[rows])
        rows, key = rows[inside], (cx[inside] - x0) * height + (cy[inside] - y0)
        counts, lon_sum, lat_sum, alone = _per_cell(key, size, None, table.lon[rows], table.lat[rows])
        single = rows[alone]
    out["total"] = int(counts.sum())
    many = counts > 1
    out["clusters"] = [
        [round(float(lo), 5), round(float(la), 5), int(c)]
        for lo, la, c in zip(lon_sum[many] / counts[many], lat_sum[many] / counts[many], counts[many], strict=True)
    ]
    out["pins"] = _pins(table, single)
    return out
