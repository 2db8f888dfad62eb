"""Load the shipped reference data (``salesos/data/``) into GeoArea and Industry.

The load is idempotent and writes only what changed: each level is read from its file, compared
with what the database already holds, and the new or changed rows are upserted in bulk on the
``(level, code)`` / ``(scheme, code)`` unique constraints (``INSERT ... ON CONFLICT DO UPDATE`` on
SQLite and PostgreSQL alike). Levels load top-down so every row can point at its parent's id:
regions -> countries -> states -> metros and postal codes. Rows that are no longer in the files
are left alone (territory rules may still name them).

The files are produced by ``scripts/build_reference.py``; ``salesos/data/README.md`` documents
each one and its licence. Loading needs only the standard library and Django.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Protocol

from django.db import models, transaction

from salesos.models import GeoArea, Industry

DATA_DIR = Path(__file__).resolve().parent / "data"
BATCH_SIZE = 1000

GEO_FIELDS = ["name", "parent_id", "country", "centroid_lat", "centroid_lon", "population", "geometry"]
INDUSTRY_FIELDS = ["title", "parent_id", "level"]


class Writer(Protocol):
    """Anything with ``write(str)``: a file, ``sys.stdout``, a command's ``self.stdout``."""

    def write(self, text: str, /) -> Any: ...


def _open(name: str) -> IO[str]:
    path = DATA_DIR / name
    if name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _csv(name: str) -> Iterator[dict[str, str]]:
    with _open(name) as fh:
        yield from csv.DictReader(fh)


def _features(name: str) -> list[dict[str, Any]]:
    with _open(name) as fh:
        return json.load(fh)["features"]


def _float(value: Any) -> float | None:
    return float(value) if value not in (None, "") else None


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


def _sync(
    model: type[models.Model],
    scope: dict[str, str],
    key_field: str,
    fields: list[str],
    rows: Iterable[dict[str, Any]],
) -> tuple[int, int, dict[str, int]]:
    """Upsert ``rows`` (dicts of ``key_field`` + ``fields``) within ``scope``; return (rows in the
    source, rows written, code -> id for the whole scope)."""
    queryset = model._default_manager.filter(**scope)
    existing = {row[0]: row[1:] for row in queryset.values_list(key_field, *fields)}
    changed = []
    total = 0
    for row in rows:
        total += 1
        values = tuple(row[f] for f in fields)
        if existing.get(row[key_field]) != values:
            changed.append(model(**scope, **row))
    if changed:
        model._default_manager.bulk_create(
            changed,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=[*scope, key_field],
            update_fields=fields,
        )
    ids = dict(queryset.values_list(key_field, "id"))
    return total, len(changed), ids


def _geo(level: str, rows: Iterable[dict[str, Any]]) -> tuple[int, int, dict[str, int]]:
    return _sync(GeoArea, {"level": level}, "code", GEO_FIELDS, rows)


def _regions() -> Iterator[dict[str, Any]]:
    for f in _features("regions.geojson.gz"):
        p = f["properties"]
        yield {
            "code": p["code"],
            "name": p["name"],
            "parent_id": None,
            "country": "",
            "centroid_lat": _float(p["lat"]),
            "centroid_lon": _float(p["lon"]),
            "population": _int(p["population"]),
            "geometry": f["geometry"],
        }


def _countries(region_ids: dict[str, int]) -> Iterator[dict[str, Any]]:
    for f in _features("countries.geojson.gz"):
        p = f["properties"]
        yield {
            "code": p["code"],
            "name": p["name"],
            "parent_id": region_ids[p["region"]],
            "country": p["code"],
            "centroid_lat": _float(p["lat"]),
            "centroid_lon": _float(p["lon"]),
            "population": _int(p["population"]),
            "geometry": f["geometry"],
        }


def _states(country_ids: dict[str, int]) -> Iterator[dict[str, Any]]:
    for f in _features("us_states.geojson.gz"):
        p = f["properties"]
        yield {
            "code": p["code"],
            "name": p["name"],
            "parent_id": country_ids["US"],
            "country": "US",
            "centroid_lat": _float(p["lat"]),
            "centroid_lon": _float(p["lon"]),
            "population": None,
            "geometry": f["geometry"],
        }
    for r in _csv("subdivisions.csv"):
        yield {
            "code": r["code"],
            "name": r["name"],
            "parent_id": country_ids[r["country"]],
            "country": r["country"],
            "centroid_lat": None,
            "centroid_lon": None,
            "population": None,
            "geometry": None,
        }


def _metros(country_ids: dict[str, int], state_ids: dict[str, int]) -> Iterator[dict[str, Any]]:
    for r in _csv("metros.csv.gz"):
        # The state when the build could determine it reliably, else the country.
        parent_id = state_ids.get(r["state"]) if r["state"] else None
        yield {
            "code": r["code"],
            "name": r["name"],
            "parent_id": parent_id or country_ids[r["country"]],
            "country": r["country"],
            "centroid_lat": _float(r["lat"]),
            "centroid_lon": _float(r["lon"]),
            "population": _int(r["population"]),
            "geometry": None,
        }


def _postal(state_ids: dict[str, int]) -> Iterator[dict[str, Any]]:
    for r in _csv("us_zip_centroids.csv.gz"):
        yield {
            "code": f"US-{r['zip']}",
            "name": r["city"],
            "parent_id": state_ids[f"US-{r['state']}"],
            "country": "US",
            "centroid_lat": _float(r["lat"]),
            "centroid_lon": _float(r["lon"]),
            "population": None,
            "geometry": None,
        }


def _industries(scheme: str, name: str) -> tuple[int, int]:
    rows = list(_csv(name))
    total = written = 0
    ids: dict[str, int] = {}
    # Parents first: level 1 rows have no parent, level 2 rows point at level 1.
    for level in sorted({int(r["level"]) for r in rows}):
        batch = [
            {"code": r["code"], "title": r["title"], "parent_id": ids[r["parent"]] if r["parent"] else None,
             "level": level}
            for r in rows
            if int(r["level"]) == level
        ]  # fmt: skip
        n, w, ids = _sync(Industry, {"scheme": scheme}, "code", INDUSTRY_FIELDS, batch)
        total += n
        written += w
    return total, written


def load_reference(*, stdout: Writer | None = None) -> dict[str, int]:
    """Load every reference level; return the number of source rows per level (``region``,
    ``country``, ``state``, ``metro``, ``postal``, ``naics``, ``sic``)."""
    counts: dict[str, int] = {}

    def step(label: str, fn: Callable[[], tuple[int, int]]) -> None:
        started = time.perf_counter()
        total, written = fn()
        counts[label] = total
        if stdout is not None:
            took = time.perf_counter() - started
            stdout.write(f"{label:8} {total:>7,} rows, {written:>7,} written ({took:.1f}s)\n")

    ids: dict[str, dict[str, int]] = {}

    def geo(level: str, rows: Callable[[], Iterable[dict[str, Any]]]) -> Callable[[], tuple[int, int]]:
        def run() -> tuple[int, int]:
            total, written, ids[level] = _geo(level, rows())
            return total, written

        return run

    with transaction.atomic():
        step("region", geo("region", _regions))
        step("country", geo("country", lambda: _countries(ids["region"])))
        step("state", geo("state", lambda: _states(ids["country"])))
        step("metro", geo("metro", lambda: _metros(ids["country"], ids["state"])))
        step("postal", geo("postal", lambda: _postal(ids["state"])))
        step("naics", lambda: _industries(Industry.Scheme.NAICS, "naics.csv"))
        step("sic", lambda: _industries(Industry.Scheme.SIC, "sic.csv"))
    return counts


def reference_loaded() -> bool:
    """Cheap check for ``make run``: the load is one transaction and SIC and postal codes come
    last, so their presence means the whole set is there."""
    return (
        GeoArea.objects.filter(level=GeoArea.Level.POSTAL).exists()
        and Industry.objects.filter(scheme=Industry.Scheme.SIC).exists()
    )
