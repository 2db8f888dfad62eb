"""The point table's indexes answer a viewport exactly as counting every account would: the same
clusters, counts, centres and pins, for random places, zooms and filters."""

from __future__ import annotations

import random
import time

import numpy as np
import pytest

from analytics.map_index import GRID_BITS, GROUPED_MAX_ZOOM, ZIndex, cell_bits
from analytics.map_points import PIN_LIMIT, PIN_ZOOM, PointFilter, Viewport, clusters, mask_of
from analytics.map_table import PointTable, _columns, grid_of, mercator_x, mercator_y

TERRITORIES = (-1, 11, 12, 13, 14)


def synthetic_table(n: int, seed: int) -> PointTable:
    """Accounts bunched around a few towns (so cells hold many, one or none), in five territories."""
    rng = np.random.default_rng(seed)
    towns = rng.uniform([-125, 25], [-70, 49], (12, 2))
    at = towns[rng.integers(0, len(towns), n)] + rng.normal(0, 0.3, (n, 2)) * rng.choice([0.01, 1.0], (n, 1))
    rows = [
        (
            i + 1,
            round(float(lon), 5),
            round(float(lat), 5),
            TERRITORIES[i % 5] if TERRITORIES[i % 5] > 0 else None,
            7 if i % 7 == 0 else None,
            ("54", "62", "")[i % 3],
            (10, 300, 6000, None)[i % 4],
            1000.0,
            2000.0,
            "US",
            "US-CA",
        )
        for i, (lon, lat) in enumerate(at)
    ]
    sectors: list[str] = []
    countries: list[str] = []
    states: list[str] = []
    cols = _columns(rows, sectors, countries, states)
    return PointTable(
        base=(),
        marks=(),
        loaded_at=time.monotonic(),
        sectors=sectors,
        countries=countries,
        states=states,
        territory_type={11: "geographic", 12: "geographic", 13: "industry", 14: "size"},
        **cols,
    )


def counted_one_by_one(table: PointTable, flt: PointFilter, view: Viewport) -> dict:
    """The definition, without indexes: every account the filter keeps whose cell touches the view."""
    rows = np.flatnonzero(mask_of(table, flt))
    if view.zoom >= PIN_ZOOM:
        rows = rows[view.mask_rows(table, rows)]
        return {"total": len(rows), "clusters": [], "pins": table.ids[rows[:PIN_LIMIT]].tolist()}
    bits = cell_bits(view.zoom)
    shift = GRID_BITS - bits
    x0, x1 = (int(grid_of(mercator_x(v))) >> shift for v in (view.west, view.east))
    y0, y1 = (int(grid_of(mercator_y(v))) >> shift for v in (view.north, view.south))
    cells: dict[tuple[int, int], list[int]] = {}
    for row in rows.tolist():
        cx, cy = int(table.gx[row]) >> shift, int(table.gy[row]) >> shift
        if x0 <= cx <= x1 and y0 <= cy <= y1:
            cells.setdefault((cx, cy), []).append(row)
    found = sorted(
        (round(float(table.lon[r].mean()), 5), round(float(table.lat[r].mean()), 5), len(r))
        for r in (np.array(v) for v in cells.values())
        if len(r) > 1
    )
    pins = sorted(int(table.ids[v[0]]) for v in cells.values() if len(v) == 1)
    return {"total": sum(len(v) for v in cells.values()), "clusters": found, "pins": pins}


FILTERS = [
    PointFilter(),
    PointFilter(territories=frozenset({11, 13}), unassigned_visible=False),
    PointFilter(territories=frozenset({12}), unassigned_visible=True),
    PointFilter(statuses=frozenset({"locked"})),
    PointFilter(statuses=frozenset({"unassigned"})),
    PointFilter(types=frozenset({"industry", "size"})),
    PointFilter(only=frozenset({14})),
    PointFilter(sectors=frozenset({"54"})),  # not kept by the groups: read account by account
    PointFilter(bands=frozenset({"250-999"}), statuses=frozenset({"assigned"})),
]


@pytest.mark.parametrize("seed", [1, 2])
def test_indexed_answers_equal_counting_every_account(seed):
    table = synthetic_table(6000, seed)
    rng = random.Random(seed)
    for _ in range(60):
        zoom = rng.randint(0, 18)
        lon, lat = rng.uniform(-125, -70), rng.uniform(25, 49)
        half_w = 1440 / 256 / 2**zoom * 180
        half_h = min(80.0, half_w * 0.6)
        view = Viewport(
            max(-180, lon - half_w), max(-85, lat - half_h), min(180, lon + half_w), min(85, lat + half_h), zoom
        )
        for flt in FILTERS:
            got = clusters(table, flt, view)
            want = counted_one_by_one(table, flt, view)
            assert got["total"] == want["total"], (view, flt)
            found = sorted(tuple(c) for c in got["clusters"])
            assert [c[2] for c in found] == [c[2] for c in want["clusters"]], (view, flt)
            # Centres agree to rounding (sums of groups add in another order).
            assert np.allclose(
                np.array(found or [(0, 0, 0)])[:, :2], np.array(want["clusters"] or [(0, 0, 0)])[:, :2], atol=2e-5
            ), (view, flt)
            pins = [p[0] for p in got["pins"]]
            assert pins == (want["pins"] if zoom >= PIN_ZOOM else sorted(pins)) and sorted(pins) == want["pins"]


def test_the_coarse_zooms_read_groups_and_the_groups_add_up():
    table = synthetic_table(3000, 3)
    clusters(table, PointFilter(), Viewport(-180, -85, 180, 85, 2))
    assert table.index is not None
    assert set(table.index.groups) == set(range(GROUPED_MAX_ZOOM + 1))
    for groups in table.index.groups.values():
        assert int(groups.count.sum()) == len(table)
        assert np.isclose(groups.lon_sum.sum(), table.lon.sum())


def test_the_z_index_finds_every_account_of_a_cell_range():
    rng = np.random.default_rng(5)
    gx = rng.integers(0, 1 << GRID_BITS, 20_000).astype(np.uint32)
    gy = rng.integers(0, 1 << GRID_BITS, 20_000).astype(np.uint32)
    index = ZIndex.build(gx, gy)
    for bits in (3, 9, 14, 18):
        shift = GRID_BITS - bits
        for _ in range(20):
            x0, y0 = (int(v) for v in rng.integers(0, 1 << bits, 2))
            x1, y1 = min((1 << bits) - 1, x0 + int(rng.integers(0, 40))), min((1 << bits) - 1, y0 + 25)
            inside = np.flatnonzero(
                (gx >> shift >= x0) & (gx >> shift <= x1) & (gy >> shift >= y0) & (gy >> shift <= y1)
            )
            found = index.rows_in(x0, x1, y0, y1, bits)
            assert np.all(np.diff(found) > 0)
            assert set(inside.tolist()) <= set(found.tolist())
