"""Choropleths over the map's point table: a metric summed per country, state or H3 hexagon,
classed into quantile bands for the legend. (White space has its own layer,
``analytics.map_white_space``, over the areas ``analytics.white_space`` defines.)"""

from __future__ import annotations

import json
from typing import Any

import h3.api.numpy_int as h3int
import numpy as np

from analytics.geo import area_features
from analytics.map_points import PointTable, Viewport

METRICS = {
    "accounts": "Accounts",
    "potential": "Potential (TAM)",
    "revenue": "Company revenue",
    "attainment": "Quota attainment",
}
LEVELS = {"territory": "Territory", "country": "Country", "state": "State/Province", "hex": "Hexagon"}
AREA_METRICS = ("accounts", "potential", "revenue")  # attainment belongs to territories, not to areas
BASE_RES = 7  # accounts' cells are computed at this resolution, coarser ones from them
PALETTE = ("#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")
CLASSES = len(PALETTE)


def hex_resolution(zoom: int) -> int:
    """Hexagons a few dozen pixels wide at this zoom."""
    table = {4: 2, 5: 2, 6: 3, 7: 4, 8: 4, 9: 5, 10: 6}
    return 1 if zoom <= 3 else table.get(zoom, BASE_RES)


def _weights(table: PointTable, metric: str, rows: np.ndarray) -> np.ndarray | None:
    if metric == "potential":
        return table.potential[rows]
    if metric == "revenue":
        return table.revenue[rows]
    return None


def breaks_of(values: list[float]) -> list[float]:
    """Upper bounds of the first CLASSES-1 classes: quantiles of the values, without repeats."""
    classes = min(CLASSES, len(set(values)))
    if classes < 2:
        return []
    cuts = np.quantile(np.array(values, dtype=np.float64), [i / classes for i in range(1, classes)])
    return sorted({round(float(c), 2) for c in cuts})


def class_of(value: float, breaks: list[float]) -> int:
    return int(np.searchsorted(np.array(breaks), value, side="left")) if breaks else 0


def _feature(properties: dict[str, Any], geometry: str) -> str:
    return (
        '{"type":"Feature","properties":'
        + json.dumps(properties, separators=(",", ":"))
        + ',"geometry":'
        + geometry
        + "}"
    )


def heat_layer(table: PointTable, mask: np.ndarray, *, metric: str, level: str, view: Viewport) -> str:
    """A GeoJSON FeatureCollection (as text) whose features carry ``value`` and ``class``, with
    ``legend`` (breaks and colours) beside ``features``."""
    found: list[tuple[dict[str, Any], str, float]] = []
    if level in ("country", "state"):
        rows = np.flatnonzero(mask)
        index = table.country if level == "country" else table.state
        vocabulary = table.countries if level == "country" else table.states
        sums = np.bincount(index[rows], weights=_weights(table, metric, rows), minlength=len(vocabulary))
        counts = np.bincount(index[rows], minlength=len(vocabulary))
        areas = area_features(level)
        for i, code in enumerate(vocabulary):
            if counts[i] and code in areas:
                name, geometry = areas[code]
                found.append(({"code": code, "name": name, "accounts": int(counts[i])}, geometry, float(sums[i])))
    else:
        rows = np.flatnonzero(mask & view.mask(table))
        resolution = hex_resolution(view.zoom)
        cells = table.h3_cells(BASE_RES)[rows]
        unique, inverse = np.unique(cells, return_inverse=True)
        if resolution < BASE_RES and len(unique):
            parents = np.fromiter(
                (h3int.cell_to_parent(int(c), resolution) for c in unique), dtype=np.uint64, count=len(unique)
            )
            unique, back = np.unique(parents, return_inverse=True)
            inverse = back[inverse]
        sums = np.bincount(inverse, weights=_weights(table, metric, rows), minlength=len(unique))
        counts = np.bincount(inverse, minlength=len(unique))
        for i, cell in enumerate(unique):
            ring = [[round(lng, 4), round(lat, 4)] for lat, lng in h3int.cell_to_boundary(int(cell))]
            ring.append(ring[0])
            geometry = json.dumps({"type": "Polygon", "coordinates": [ring]}, separators=(",", ":"))
            found.append(
                (
                    {"code": h3int.int_to_str(int(cell)), "name": "", "accounts": int(counts[i])},
                    geometry,
                    float(sums[i]),
                )
            )
    breaks = breaks_of([v for _, _, v in found])
    palette = PALETTE
    features = []
    for properties, geometry, value in found:
        features.append(_feature({**properties, "value": round(value, 2), "class": class_of(value, breaks)}, geometry))
    legend = {
        "metric": metric,
        "label": METRICS[metric],
        "breaks": breaks,
        "colors": list(palette[: len(breaks) + 1]),
        "level": level,
        "white_space": False,
    }
    return (
        '{"type":"FeatureCollection","legend":'
        + json.dumps(legend, separators=(",", ":"))
        + ',"features":['
        + ",".join(features)
        + "]}"
    )
