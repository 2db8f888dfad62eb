"""The map's white-space layer: the areas ``analytics.white_space`` defines (states and metros whose
accounts all sit in the unassigned queue), the same ones the coverage dashboard counts, drawn as
a choropleth of their unassigned accounts or potential.

States are drawn by their boundaries, metros as a disc around their centre (metros have no
boundary in the reference data), as the territory shapes draw them. White space is a company
fact, like the dashboard's: the map's account filters do not narrow it, and only the roles that
work the unassigned queue see it. The areas are computed once per plan version and state of the
point table (a new account or placement), shared through the cache by every web process.
"""

from __future__ import annotations

import json
from decimal import Decimal

import shapely
from django.conf import settings
from django.core.cache import cache
from shapely.geometry import mapping

from analytics.geo import METRO_RADIUS, area_features
from analytics.map_heat import METRICS, breaks_of, class_of
from analytics.map_table import PointTable
from analytics.white_space import METRO, STATE, AreaGap, white_space_areas
from salesos.models import GeoArea
from territories.models import TerritoryPlan

PALETTE = ("#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f")
EMPTY = '{"type":"FeatureCollection","legend":null,"areas":{"state":0,"metro":0},"features":[]}'


def white_space_now(plan: TerritoryPlan, table: PointTable) -> list[AreaGap]:
    """The white-space areas of ``plan`` as the point table stands (its marks change with every
    new account or placement row), cached for ``MAP_POINTS_MAX_AGE`` at most."""
    key = f"map:white-space:{plan.pk}:{plan.version}:{hash((table.base, table.marks))}"
    found = cache.get(key)
    if found is None:
        found = [area for area in white_space_areas(plan=plan) if area.uncovered]
        cache.set(key, found, getattr(settings, "MAP_POINTS_MAX_AGE", 600))
    return found


def _metro_discs(areas: list[AreaGap]) -> dict[str, str]:
    names = {a.code for a in areas if a.level == METRO}
    if not names:
        return {}
    rows = GeoArea.objects.filter(
        level=GeoArea.Level.METRO, code__in=names, centroid_lat__isnull=False, centroid_lon__isnull=False
    ).values_list("code", "centroid_lat", "centroid_lon")
    return {
        code: json.dumps(
            mapping(shapely.set_precision(shapely.Point(lon, lat).buffer(METRO_RADIUS, quad_segs=8), 0.001)),
            separators=(",", ":"),
        )
        for code, lat, lon in rows
    }


def white_space_layer(areas: list[AreaGap], *, metric: str) -> str:
    """A GeoJSON FeatureCollection (text) of the areas that can be drawn, each with ``value``
    (unassigned accounts, or their potential) and ``class``; ``areas`` counts every white-space
    area per level, drawn or not (an area without a boundary or centre cannot be drawn)."""
    states = area_features(GeoArea.Level.STATE)
    discs = _metro_discs(areas)
    found: list[tuple[AreaGap, str, str, float]] = []
    for area in areas:
        if area.level == STATE and area.code in states:
            name, geometry = states[area.code]
        elif area.level == METRO and area.code in discs:
            name, geometry = area.code, discs[area.code]
        else:
            continue
        value = float(area.potential) if metric == "potential" else float(area.unassigned)
        found.append((area, name, geometry, value))
    breaks = breaks_of([v for *_, v in found])
    features = []
    for area, name, geometry, value in found:
        properties = {
            "code": area.code,
            "name": name,
            "level": area.level,
            "state": area.state,
            "accounts": area.unassigned,
            "potential": str(area.potential.quantize(Decimal(1))),
            "value": round(value, 2),
            "class": class_of(value, breaks),
        }
        features.append(
            '{"type":"Feature","properties":'
            + json.dumps(properties, separators=(",", ":"))
            + ',"geometry":'
            + geometry
            + "}"
        )
    metric = "potential" if metric == "potential" else "accounts"
    legend = {
        "metric": metric,
        "label": METRICS[metric],
        "breaks": breaks,
        "colors": list(PALETTE[: len(breaks) + 1]),
        "level": "area",
        "white_space": True,
    }
    counts = {STATE: sum(1 for a in areas if a.level == STATE), METRO: sum(1 for a in areas if a.level == METRO)}
    return (
        '{"type":"FeatureCollection","legend":'
        + json.dumps(legend, separators=(",", ":"))
        + ',"areas":'
        + json.dumps(counts)
        + ',"features":['
        + ",".join(features)
        + "]}"
    )
