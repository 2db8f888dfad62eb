"""Account points for the map, clustered on the server.

The located accounts are held per process as numpy columns (``analytics.map_table``: loaded
once, then brought up to date by what changed). A viewport answer is then a few vectorised masks
and one ``bincount`` over screen-sized grid cells, whatever the number of accounts, so the
browser never gets more than one feature per cell (a few hundred).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from analytics.map_table import (
    GRID_BITS,
    SIZE_BANDS,
    PointTable,
    grid_of,
    mercator_x,
    mercator_y,
    point_table,
    point_table_clear,
)

__all__ = ["SIZE_BANDS", "STATUSES", "PointFilter", "PointTable", "Viewport", "clusters", "mask_of", "mercator_x",
           "mercator_y", "point_table", "point_table_clear"]

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
        # Cells are absolute (a cell is the same whatever the viewport): the finest grid's cells
        # shifted to this zoom's, numbered from the viewport's north-west one.
        shift = GRID_BITS - 2 - view.zoom  # 2**(zoom + 2) cells of 64 px per axis at this zoom
        x0, x1 = (int(grid_of(mercator_x(v))) >> shift for v in (view.west, view.east))
        y0, y1 = (int(grid_of(mercator_y(v))) >> shift for v in (view.north, view.south))
        width, height = x1 - x0 + 1, y1 - y0 + 1
        every = total == len(table)  # the whole table in view: no copies of the columns
        pick = slice(None) if every else rows
        cx = (table.gx[pick] >> shift).astype(np.int64) - x0
        cy = (table.gy[pick] >> shift).astype(np.int64) - y0
        key = np.clip(cx, 0, width - 1) * height + np.clip(cy, 0, height - 1)
        lon, lat = table.lon[pick], table.lat[pick]
        if width * height <= DENSE_CELLS:
            # A screen's grid: counted straight into its cells (no sort of the points).
            per_cell = np.bincount(key, minlength=width * height)
            occupied = np.flatnonzero(per_cell)
            counts = per_cell[occupied]
            lon_sum = np.bincount(key, weights=lon, minlength=width * height)[occupied]
            lat_sum = np.bincount(key, weights=lat, minlength=width * height)[occupied]
            alone = per_cell[key] == 1
        else:  # a bounding box far larger than a screen: cells compacted to those holding points
            _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
            lon_sum = np.bincount(inverse, weights=lon)
            lat_sum = np.bincount(inverse, weights=lat)
            alone = counts[inverse] == 1
        many = counts > 1
        out["clusters"] = [
            [round(float(lo), 5), round(float(la), 5), int(c)]
            for lo, la, c in zip(lon_sum[many] / counts[many], lat_sum[many] / counts[many], counts[many],
                                 strict=True)
        ]
        single = rows[alone]
    out["pins"] = [
        [int(i), round(float(lo), 5), round(float(la), 5), int(t) if t >= 0 else None]
        for i, lo, la, t in zip(table.ids[single], table.lon[single], table.lat[single], table.territory[single],
                                strict=True)
    ]
    return out
