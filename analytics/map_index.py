"""The point table's indexes, so a viewport reads what is in view instead of scanning every account.

* ``ZIndex``: the accounts ordered along a Z-order (Morton) curve of their finest grid cell. Any
  square cell of the grid, at any level, is one contiguous range of that order, so the accounts
  of a viewport are a few binary searches away (a handful of ranges covering it).
* ``CellGroups``: for the cluster zooms up to ``GROUPED_MAX_ZOOM``, the accounts counted per
  (cell of that zoom, primary territory, locked) with their coordinate sums and one member. A
  world or country view is then a sum over a few thousand groups, not over every account; the
  territory and the lock are kept apart because the map's scope and filters select on them.

Both are built once per table (load or refresh), together a fraction of a second at a million
accounts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

GRID_BITS = 18  # cells per axis of the finest grid, as a power of two (64 px cells at zoom 16)
CELL_BITS_AT_ZOOM0 = 2  # a 256 px world tile holds 4 cells of 64 px per axis
GROUPED_MAX_ZOOM = 10  # above this, a viewport holds few enough accounts to read them one by one
RANGES_PER_AXIS = 4  # a viewport is covered by about this many index cells per axis


def cell_bits(zoom: int) -> int:
    """Bits per axis of the cluster grid at ``zoom`` (cells of 64 px)."""
    return min(GRID_BITS, zoom + CELL_BITS_AT_ZOOM0)


def _spread(v: np.ndarray) -> np.ndarray:
    """The bits of ``v`` (up to 32) moved to the even positions of a 64-bit word."""
    x = np.asarray(v, dtype=np.uint64) & np.uint64(0xFFFFFFFF)
    for shift, mask in (
        (16, 0x0000FFFF0000FFFF),
        (8, 0x00FF00FF00FF00FF),
        (4, 0x0F0F0F0F0F0F0F0F),
        (2, 0x3333333333333333),
        (1, 0x5555555555555555),
    ):
        x = (x | (x << np.uint64(shift))) & np.uint64(mask)
    return x


def morton(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    return _spread(gx) | (_spread(gy) << np.uint64(1))


@dataclass(frozen=True)
class ZIndex:
    order: np.ndarray  # row numbers sorted by their cell's Morton key
    keys: np.ndarray  # the sorted keys

    @classmethod
    def build(cls, gx: np.ndarray, gy: np.ndarray) -> ZIndex:
        keys = morton(gx, gy)
        order = np.argsort(keys, kind="stable")
        return cls(order=order, keys=keys[order])

    def rows_in(self, x0: int, x1: int, y0: int, y1: int, bits: int) -> np.ndarray:
        """Rows whose finest cell may lie in cells x0..x1, y0..y1 of the grid with ``bits`` bits
        per axis: a superset (the covering cells are coarser), ascending row numbers."""
        span = max(x1 - x0 + 1, y1 - y0 + 1)
        coarser = max(0, math.ceil(math.log2(span / RANGES_PER_AXIS))) if span > RANGES_PER_AXIS else 0
        level = max(0, bits - coarser)
        drop = bits - level
        xs = np.arange(x0 >> drop, (x1 >> drop) + 1, dtype=np.uint64)
        ys = np.arange(y0 >> drop, (y1 >> drop) + 1, dtype=np.uint64)
        cx, cy = np.meshgrid(xs, ys, indexing="ij")
        width = np.uint64(2 * (GRID_BITS - level))
        starts = np.sort(morton(cx.ravel(), cy.ravel())) << width
        ends = starts + (np.uint64(1) << width)
        # Ranges that touch merge into one.
        join = np.flatnonzero(starts[1:] != ends[:-1]) + 1
        starts, ends = starts[np.r_[0, join]], ends[np.r_[join - 1, len(ends) - 1]]
        lo = np.searchsorted(self.keys, starts, side="left")
        hi = np.searchsorted(self.keys, ends, side="left")
        parts = [self.order[a:b] for a, b in zip(lo.tolist(), hi.tolist(), strict=True) if b > a]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return np.sort(np.concatenate(parts))


@dataclass(frozen=True)
class CellGroups:
    """Accounts per (cell, territory, locked) at one zoom."""

    cx: np.ndarray  # int64 cell column at this zoom
    cy: np.ndarray
    territory: np.ndarray  # int64, -1 unassigned
    locked: np.ndarray  # bool
    count: np.ndarray  # int64
    lon_sum: np.ndarray  # float64
    lat_sum: np.ndarray
    first: np.ndarray  # int64: the lowest row of the group (the pin when it is alone)


def _group(
    cx: np.ndarray,
    cy: np.ndarray,
    territory: np.ndarray,
    locked: np.ndarray,
    bits: int,
    count: np.ndarray | None,
    lon: np.ndarray,
    lat: np.ndarray,
    first: np.ndarray,
) -> CellGroups:
    """Groups of rows (accounts, or finer groups with their ``count``) by cell, territory, lock."""
    codes, tcode = np.unique(territory, return_inverse=True)
    key = ((cx.astype(np.uint64) << np.uint64(bits)) | cy.astype(np.uint64)) * np.uint64(len(codes) or 1)
    key = (key + tcode.astype(np.uint64)) * np.uint64(2) + locked.astype(np.uint64)
    order = np.argsort(key, kind="stable")
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    pick = order[starts]
    counts = np.ones(len(order), dtype=np.int64) if count is None else count
    return CellGroups(
        cx=cx[pick].astype(np.int64),
        cy=cy[pick].astype(np.int64),
        territory=territory[pick],
        locked=locked[pick],
        count=np.add.reduceat(counts[order], starts) if len(order) else counts[:0],
        lon_sum=np.add.reduceat(lon[order], starts) if len(order) else lon[:0],
        lat_sum=np.add.reduceat(lat[order], starts) if len(order) else lat[:0],
        first=np.minimum.reduceat(first[order], starts) if len(order) else first[:0],
    )


def cell_groups(
    gx: np.ndarray, gy: np.ndarray, territory: np.ndarray, locked: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> dict[int, CellGroups]:
    """The groups of every zoom up to ``GROUPED_MAX_ZOOM``: the finest from the accounts, each
    coarser one from the finer groups (a cell is the four cells below it)."""
    top = GROUPED_MAX_ZOOM
    shift = np.uint32(GRID_BITS - cell_bits(top))
    rows = np.arange(len(gx), dtype=np.int64)
    out = {top: _group(gx >> shift, gy >> shift, territory, locked, cell_bits(top), None, lon, lat, rows)}
    for zoom in range(top - 1, -1, -1):
        finer = out[zoom + 1]
        step = cell_bits(zoom + 1) - cell_bits(zoom)
        out[zoom] = _group(
            finer.cx >> step,
            finer.cy >> step,
            finer.territory,
            finer.locked,
            cell_bits(zoom),
            finer.count,
            finer.lon_sum,
            finer.lat_sum,
            finer.first,
        )
    return out


@dataclass(frozen=True)
class TableIndex:
    z: ZIndex
    groups: dict[int, CellGroups]


def table_index(
    gx: np.ndarray, gy: np.ndarray, territory: np.ndarray, locked: np.ndarray, lon: np.ndarray, lat: np.ndarray
) -> TableIndex:
    return TableIndex(z=ZIndex.build(gx, gy), groups=cell_groups(gx, gy, territory, locked, lon, lat))
