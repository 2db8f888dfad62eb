"""Territory shapes and area geometries for the map, built with shapely and cached.

A geographic territory is drawn as the union of the reference areas (``GeoArea``) its rule names
(``routing.engine.geography.geo_terms``: countries, regions, states, metros, ZIP codes):

* countries, regions and states by their shipped boundaries;
* a metro or city as a disc of ``METRO_RADIUS`` degrees around its centroid (metros have no
  boundary in the reference data);
* ZIP codes as the H3 cells (resolution ``ZIP_H3_RES`` and their neighbours) around each ZIP
  centroid, clipped to the ZIP's state, so neighbouring ZIP territories tile the state.

A territory whose rule bounds no geography (industry, size, named accounts, or a geographic rule
naming only areas without a boundary) is drawn from its accounts' extent: the convex hull of
their locations. Overlay territories are not drawn (they own no ground).

The layer of a plan is built once per plan version, by a task (``analytics.map_layers``), as one
GeoJSON feature string per territory, so a request only picks and joins the features the user
may see.
"""

from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import h3
import numpy as np
import shapely
from django.core.cache import cache
from django.db.models import Max, Q
from shapely.geometry import mapping, shape
from shapely.geometry.base import BaseGeometry

from analytics.map_points import PointTable
from routing.engine.geography import GeoTerm, geo_terms
from salesos.models import GeoArea
from territories.models import Territory, TerritoryPlan

METRO_RADIUS = 0.25  # degrees, about 25 km
ZIP_H3_RES = 6  # cells of about 36 km2
ZIP_CLOSE = 0.04  # degrees: gaps narrower than twice this between a territory's ZIP cells close
HULL_MARGIN = 0.05  # degrees around an account extent, so a lone account is a visible dot
CACHE_SECONDS = 24 * 3600
PRECISION = 0.001  # coordinates rounded to about 100 m

# Rule field -> the GeoArea level its values name.
AREA_LEVEL = {
    "region": GeoArea.Level.REGION,
    "country": GeoArea.Level.COUNTRY,
    "state": GeoArea.Level.STATE,
    "metro": GeoArea.Level.METRO,
    "city": GeoArea.Level.METRO,
    "postal_code": GeoArea.Level.POSTAL,
}


def territory_colour(index: int) -> str:
    """Distinct colours for neighbours in code order: hues a golden angle apart."""
    hue = (index * 137.508) % 360
    lightness = (42, 52, 36)[index % 3]
    return f"hsl({hue:.0f}, 68%, {lightness}%)"


def _tolerance(geom: BaseGeometry) -> float:
    """Simplification in proportion to the shape: a two-hundredth of its extent (a continent
    loses its fjords, a ZIP cluster keeps its outline)."""
    west, south, east, north = geom.bounds
    return min(0.25, max(0.02, math.hypot(east - west, north - south) / 150))


def _simplified(geom: BaseGeometry) -> BaseGeometry:
    tolerance = _tolerance(geom)
    geom = geom.simplify(tolerance, preserve_topology=True)
    # Two decimals (~1 km) are plenty once the outline is simplified by 5 km or more.
    return shapely.set_precision(geom, PRECISION if tolerance < 0.05 else PRECISION * 10)


def _union(parts: list[BaseGeometry]) -> BaseGeometry:
    """The union of shapes, each simplified at the union's scale first (much faster, same look)."""
    if len(parts) == 1:
        return parts[0]
    tolerance = _tolerance(shapely.GeometryCollection(parts)) / 2
    return shapely.union_all([p.simplify(tolerance, preserve_topology=True) for p in parts])


def geometry_json(geom: BaseGeometry) -> dict[str, Any]:
    return mapping(geom)


# --- reading the reference areas the rules name ---------------------------------------------


@dataclass
class _Areas:
    """Geometries and centroids of the areas some rules name, read in a few queries."""

    shapes: dict[tuple[str, str], BaseGeometry]
    centroids: dict[tuple[str, str], tuple[float, float]]
    zip_state: dict[str, str]  # postal code -> its state's code
    zips_by_prefix: dict[str, list[str]]  # postal prefix -> codes


def _postal_code(value: str) -> str:
    value = value.strip().upper()
    return value if "-" in value else f"US-{value}"


def _read_areas(all_terms: Iterable[GeoTerm]) -> _Areas:
    codes: dict[str, set[str]] = defaultdict(set)
    prefixes: set[str] = set()
    for term in all_terms:
        level = AREA_LEVEL[term.field]
        if level == GeoArea.Level.POSTAL:
            if term.prefix:
                prefixes.update(_postal_code(v) for v in term.values)
            else:
                codes[level].update(_postal_code(v) for v in term.values)
        elif not term.prefix:
            codes[level].update(v if level == GeoArea.Level.METRO else v.upper() for v in term.values)
    query = Q(pk__in=[])
    for name, wanted in codes.items():
        query |= Q(level=name, code__in=wanted)
    for prefix in prefixes:
        query |= Q(level=GeoArea.Level.POSTAL, code__startswith=prefix)
    areas = _Areas({}, {}, {}, defaultdict(list))
    lengths = sorted({len(p) for p in prefixes})
    rows = GeoArea.objects.filter(query).values_list(
        "level", "code", "geometry", "centroid_lat", "centroid_lon", "parent__code"
    )
    for kind, code, geometry, lat, lon, parent in rows:
        if geometry:
            areas.shapes[(kind, code)] = shape(geometry)
        if lat is not None and lon is not None:
            areas.centroids[(kind, code)] = (lat, lon)
        if kind == GeoArea.Level.POSTAL:
            areas.zip_state[code] = parent or ""
            for length in lengths:
                if code[:length] in prefixes:
                    areas.zips_by_prefix[code[:length]].append(code)
    states = {s for s in areas.zip_state.values() if s}
    for code, geometry in GeoArea.objects.filter(
        level=GeoArea.Level.STATE, code__in=states, geometry__isnull=False
    ).values_list("code", "geometry"):
        areas.shapes[(GeoArea.Level.STATE, code)] = shape(geometry)
    return areas


def _zip_shape(codes: list[str], areas: _Areas) -> BaseGeometry | None:
    by_state: dict[str, set[str]] = defaultdict(set)
    for code in codes:
        centroid = areas.centroids.get((GeoArea.Level.POSTAL, code))
        if centroid is not None:
            by_state[areas.zip_state.get(code, "")].update(h3.grid_disk(h3.latlng_to_cell(*centroid, ZIP_H3_RES), 1))
    parts = []
    for state, cells in by_state.items():
        # Without the holes between ZIP cells: the territory covers its ZIPs' neighbourhood, and
        # a hole-free outline is a fraction of the size.
        cells_shape = shape(h3.cells_to_h3shape(list(cells)).__geo_interface__)
        # Closed (grown then shrunk) so nearby cells merge into one smooth outline.
        cells_shape = cells_shape.simplify(ZIP_CLOSE / 4)
        cells_shape = _fill_holes(cells_shape.buffer(ZIP_CLOSE, quad_segs=1).buffer(-ZIP_CLOSE, quad_segs=1))
        clip = areas.shapes.get((GeoArea.Level.STATE, state))
        parts.append(cells_shape.intersection(clip) if clip is not None else cells_shape)
    return shapely.union_all(parts) if parts else None


def _fill_holes(geom: BaseGeometry) -> BaseGeometry:
    polygons = [shapely.Polygon(p.exterior) for p in getattr(geom, "geoms", [geom]) if isinstance(p, shapely.Polygon)]
    return shapely.union_all(polygons) if polygons else geom


def terms_shape(terms: list[GeoTerm], areas: _Areas) -> BaseGeometry | None:
    """The union of the areas ``terms`` name, or None when none of them has a known shape."""
    parts: list[BaseGeometry] = []
    zips: list[str] = []
    for term in terms:
        level = AREA_LEVEL[term.field]
        if level == GeoArea.Level.POSTAL:
            for value in term.values:
                code = _postal_code(value)
                zips.extend(areas.zips_by_prefix.get(code, []) if term.prefix else [code])
            continue
        if term.prefix:
            continue  # a prefix of a city name names no place we can draw
        for value in term.values:
            code = value if level == GeoArea.Level.METRO else value.upper()
            found = areas.shapes.get((level, code))
            if found is not None:
                parts.append(found)
            elif (centroid := areas.centroids.get((level, code))) is not None:
                parts.append(shapely.Point(centroid[1], centroid[0]).buffer(METRO_RADIUS, quad_segs=8))
    if zips:
        zip_shape = _zip_shape(zips, areas)
        if zip_shape is not None:
            parts.append(zip_shape)
    if not parts:
        return None
    merged = _union(parts)
    return None if merged.is_empty else merged


def account_hulls(points: PointTable, territory_ids: Iterable[int]) -> dict[int, BaseGeometry]:
    """The convex hull (with a margin) of each territory's located accounts."""
    wanted = np.fromiter(territory_ids, dtype=np.int64)
    rows = np.flatnonzero(np.isin(points.territory, wanted))
    if not len(rows):
        return {}
    order = rows[np.argsort(points.territory[rows], kind="stable")]
    groups, starts = np.unique(points.territory[order], return_index=True)
    coords = np.column_stack([points.lon[order], points.lat[order]])
    index = np.repeat(np.arange(len(groups)), np.diff(np.append(starts, len(order))))
    hulls = shapely.convex_hull(shapely.multipoints(coords, indices=index))
    return {int(t): hull.buffer(HULL_MARGIN, quad_segs=4) for t, hull in zip(groups, hulls, strict=True)}


# --- the plan's layer -------------------------------------------------------------------------


@dataclass
class BoundaryLayer:
    """One GeoJSON feature string per drawn territory, and what the filters read."""

    features: dict[int, str]
    depth: dict[int, int]
    kind: dict[int, str]
    leaf: dict[int, bool]
    max_depth: int

    def feature_collection(self, territory_ids: Iterable[int], state: dict | None = None) -> str:
        """The GeoJSON of these territories, with ``layer`` (its state, ``map_layers``) beside the features."""
        parts = [self.features[t] for t in territory_ids if t in self.features]
        head = '{"type":"FeatureCollection",' + (f'"layer":{json.dumps(state)},' if state else "")
        return head + '"features":[' + ",".join(parts) + "]}"


REFERENCE_STAMP_SECONDS = 300
_reference_stamp: tuple[float, str] | None = None


def reference_stamp() -> str:
    """Changes when reference areas are loaded (the newest id: the load never deletes rows),
    asked at most every ``REFERENCE_STAMP_SECONDS`` per process: reference data changes with a
    release, not between two requests."""
    global _reference_stamp
    now = time.monotonic()
    if _reference_stamp is None or now - _reference_stamp[0] > REFERENCE_STAMP_SECONDS:
        _reference_stamp = (now, str(GeoArea.objects.aggregate(last=Max("id"))["last"]))
    return _reference_stamp[1]


def reference_stamp_forget() -> None:
    global _reference_stamp
    _reference_stamp = None


def boundaries_cache_key(plan: TerritoryPlan) -> str:
    # The creation time too: a plan id can come back after a rollback (SQLite) with version 1.
    return f"map:boundaries:{plan.pk}:{plan.version}:{plan.created_at.timestamp()}:{reference_stamp()}"


def boundaries_build(plan: TerritoryPlan, points: PointTable) -> BoundaryLayer:
    territories = list(
        Territory.objects.with_tree_fields()
        .filter(plan=plan, status=Territory.Status.ACTIVE)
        .values("pk", "code", "name", "type", "rule", "parent_id", "is_overlay", "tree_depth")
        .order_by("code")
    )
    terms = {t["pk"]: geo_terms(t["rule"]) if t["type"] != Territory.Type.NAMED_ACCOUNT else None for t in territories}
    areas = _read_areas(term for found in terms.values() if found for term in found)
    parents = {t["parent_id"] for t in territories if not t["is_overlay"]}
    shapes: dict[int, tuple[BaseGeometry, str]] = {}
    no_shape = []
    for t in territories:
        if t["is_overlay"]:
            continue
        named = terms[t["pk"]]
        found = terms_shape(named, areas) if named else None
        if found is None:
            no_shape.append(t["pk"])
        else:
            shapes[t["pk"]] = (found, "rule")
    for pk, hull in account_hulls(points, no_shape).items():
        shapes[pk] = (hull, "accounts")
    layer = BoundaryLayer({}, {}, {}, {}, 0)
    for index, t in enumerate(territories):
        if t["pk"] not in shapes:
            continue
        geom, source = shapes[t["pk"]]
        geom = _simplified(geom)
        if geom.is_empty:
            continue
        feature = {
            "type": "Feature",
            "id": t["pk"],
            "properties": {"id": t["pk"], "code": t["code"], "name": t["name"], "type": t["type"],
                           "depth": t["tree_depth"], "source": source, "color": territory_colour(index)},
            "geometry": mapping(geom),
        }
        layer.features[t["pk"]] = json.dumps(feature, separators=(",", ":"))
        layer.depth[t["pk"]] = t["tree_depth"]
        layer.kind[t["pk"]] = t["type"]
        layer.leaf[t["pk"]] = t["pk"] not in parents
        layer.max_depth = max(layer.max_depth, t["tree_depth"])
    return layer


# --- reference areas for the heat map -----------------------------------------------------------


def area_features(level: str) -> dict[str, tuple[str, str]]:
    """code -> (name, simplified GeoJSON geometry string) of every area of ``level`` that has a
    boundary (countries, states), cached."""
    key = f"map:areas:{level}:{reference_stamp()}"
    found = cache.get(key)
    if found is None:
        found = {}
        for code, name, geometry in GeoArea.objects.filter(level=level, geometry__isnull=False).values_list(
            "code", "name", "geometry"
        ):
            geom = _simplified(shape(geometry))
            if not geom.is_empty:
                found[code] = (name, json.dumps(mapping(geom), separators=(",", ":")))
        cache.set(key, found, CACHE_SECONDS)
    return found


BASE_TOLERANCE = {GeoArea.Level.COUNTRY: 0.1, GeoArea.Level.STATE: 0.03}


def _drop_specks(geom: BaseGeometry, min_area: float) -> BaseGeometry:
    """Without the islands too small to see at the zoom the base map is meant for."""
    parts = [p for p in getattr(geom, "geoms", [geom]) if p.area >= min_area]
    if not parts:
        return shapely.Polygon()
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


def base_outlines() -> str:
    """Country and state outlines for the blank base map (no tiles), as one cached GeoJSON
    text: context, not data, so coarser than the territory shapes."""
    key = f"map:base:{reference_stamp()}"
    found = cache.get(key)
    if found is None:
        parts = []
        for level, tolerance in BASE_TOLERANCE.items():
            rows = GeoArea.objects.filter(level=level, geometry__isnull=False).values_list("code", "geometry")
            for code, geometry in rows:
                geom = _drop_specks(shape(geometry).simplify(tolerance, preserve_topology=True), tolerance ** 2 * 4)
                geom = shapely.set_precision(geom, 0.01)
                if geom.is_empty:
                    continue
                parts.append(json.dumps({"type": "Feature", "properties": {"code": code, "level": level},
                                         "geometry": mapping(geom)}, separators=(",", ":")))
        found = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
        cache.set(key, found, CACHE_SECONDS)
    return found
