"""Choropleths over territory shapes: quota attainment, and the account metrics summed per
territory.

Quota attainment is the performance page's figure (``analytics.selectors.performance``: won
amount / quota after ramp, each territory with the part of its subtree the user sees) for a
fiscal period (``analytics.selectors.periods``: the current quarter unless one is chosen); it is
read from there, not computed again. Its classes are fixed bands around 100 % so a colour means
the same on every map; territories without a quota in the period are drawn grey, "no quota".
The account metrics (count, potential, revenue) sum the accounts whose primary territory is the
territory or one below it that the user sees, over the map's point table.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from analytics.geo import BoundaryLayer
from analytics.map_heat import METRICS, PALETTE, breaks_of, class_of
from analytics.map_points import PointTable
from analytics.selectors.performance import rolled_up
from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import Scope

ATTAINMENT_BREAKS = [50.0, 80.0, 100.0, 120.0]  # percent
ATTAINMENT_PALETTE = ("#d7191c", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641")
NO_QUOTA = "#c9ced6"


def _values(metric: str, ids: list[int], scope: Scope, choice: PeriodChoice, table: PointTable,
            mask: np.ndarray) -> dict[int, tuple[float | None, int]]:
    """Per territory: the metric's value (None: no quota) and its accounts."""
    if metric == "attainment":
        figures = rolled_up(scope=scope, choice=choice)
        return {pk: (figures[pk].attainment, figures[pk].accounts) for pk in ids if pk in figures}
    rows = np.flatnonzero(mask & (table.territory >= 0))
    found, where = np.unique(table.territory[rows], return_inverse=True)
    weights = None if metric == "accounts" else (table.potential if metric == "potential" else table.revenue)[rows]
    sums = dict(zip(found.tolist(), np.bincount(where, weights=weights).tolist(), strict=True))
    counts = dict(zip(found.tolist(), np.bincount(where).tolist(), strict=True))
    out: dict[int, tuple[float | None, int]] = {}
    for pk in ids:
        below = scope.subtree(pk) if pk in scope.nodes else [pk]
        out[pk] = (float(sum(sums.get(t, 0.0) for t in below)), int(sum(counts.get(t, 0) for t in below)))
    return out


def territory_heat(*, layer: BoundaryLayer, ids: list[int], scope: Scope, choice: PeriodChoice, metric: str,
                   table: PointTable, mask: np.ndarray) -> str:
    """A GeoJSON FeatureCollection (text) of the drawn territories ``ids`` with ``value``
    and ``class`` (-1: no quota), and ``legend`` beside the features."""
    values = _values(metric, ids, scope, choice, table, mask)
    attainment = metric == "attainment"
    known = [v for v, _ in values.values() if v is not None]
    breaks = ATTAINMENT_BREAKS if attainment else breaks_of(known)
    palette = ATTAINMENT_PALETTE if attainment else PALETTE
    features = []
    for pk in ids:
        if pk not in values or pk not in layer.features:
            continue
        value, accounts = values[pk]
        feature = json.loads(layer.features[pk])
        properties: dict[str, Any] = {
            "code": feature["properties"]["code"], "name": feature["properties"]["name"], "accounts": accounts,
            "value": None if value is None else round(value, 1), "class": -1 if value is None else class_of(value,
                                                                                                           breaks),
        }
        features.append({"type": "Feature", "properties": properties, "geometry": feature["geometry"]})
    period = choice.period
    legend = {
        "metric": metric, "label": METRICS[metric], "breaks": breaks, "colors": list(palette[: len(breaks) + 1]),
        "level": "territory", "white_space": False, "missing": NO_QUOTA if attainment else None,
        "period": f"{period.name} {period.fiscal_year.name}" if period is not None else None,
    }
    return json.dumps({"type": "FeatureCollection", "legend": legend, "features": features}, separators=(",", ":"))
