"""The shipped reference data and its loader (salesos/reference.py).

The full set (~33k rows) is loaded once per module inside a transaction that is rolled back at
the end, so other test modules still start from an empty reference table. Each test runs in a
savepoint nested in it (pytest-django's ``db``)."""

from __future__ import annotations

import io
import math
import re

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from shapely.geometry import Point, shape

from salesos.models import GeoArea, Industry
from salesos.reference import load_reference, reference_loaded


def test_reference_not_loaded_on_an_empty_database(db):
    assert not reference_loaded()


@pytest.fixture(scope="module")
def reference(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        try:
            yield load_reference()
        finally:
            transaction.set_rollback(True)


@pytest.fixture
def loaded(reference, db):
    return reference


def geo(level: str, code: str) -> GeoArea:
    return GeoArea.objects.select_related("parent").get(level=level, code=code)


def km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


def test_counts_per_level(loaded):
    assert reference_loaded()
    assert loaded["region"] == 3
    assert 240 <= loaded["country"] <= 250
    assert loaded["state"] >= 52 + 200  # 50 states + DC + PR, and the demo countries' subdivisions
    assert 2000 <= loaded["metro"] <= 5000
    assert loaded["postal"] > 29000
    assert loaded["naics"] == 24 + 96  # 20 sectors (three ranges stored per 2-digit code) + subsectors
    assert loaded["sic"] == 11 + 83
    for level in ("region", "country", "state", "metro", "postal"):
        assert GeoArea.objects.filter(level=level).count() == loaded[level]
    assert Industry.objects.filter(scheme="naics").count() == loaded["naics"]
    assert Industry.objects.filter(scheme="sic").count() == loaded["sic"]


def test_second_load_writes_nothing_and_returns_the_same_counts(loaded):
    before = {level: GeoArea.objects.filter(level=level).count() for level in GeoArea.Level.values}
    with CaptureQueriesContext(connection) as ctx:
        again = load_reference()
    assert again == loaded
    assert {level: GeoArea.objects.filter(level=level).count() for level in before} == before
    writes = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert writes == []


def test_reload_repairs_a_changed_row(loaded):
    GeoArea.objects.filter(level="state", code="US-CA").update(name="Calif.", parent=None)
    out = io.StringIO()
    load_reference(stdout=out)
    california = geo("state", "US-CA")
    assert california.name == "California"
    assert california.parent.code == "US"
    assert re.search(r"^state\s+[\d,]+ rows,\s+1 written", out.getvalue(), re.MULTILINE)
    assert re.search(r"^postal\s+[\d,]+ rows,\s+0 written", out.getvalue(), re.MULTILINE)


def test_known_parents(loaded):
    assert geo("state", "US-CA").parent.code == "US"
    assert geo("country", "US").parent.code == "AMER"
    assert geo("country", "BR").parent.code == "AMER"
    assert geo("country", "DE").parent.code == "EMEA"
    assert geo("country", "AE").parent.code == "EMEA"
    assert geo("country", "ZA").parent.code == "EMEA"
    assert geo("country", "JP").parent.code == "APAC"
    assert geo("country", "AU").parent.code == "APAC"
    assert geo("region", "AMER").name == "Americas"
    assert geo("region", "AMER").parent is None
    assert geo("state", "DE-BY").parent.code == "DE"
    assert geo("state", "GB-SCT").name == "Scotland"
    assert geo("state", "CA-ON").parent.code == "CA"

    zip_code = geo("postal", "US-94105")
    assert zip_code.parent.code == "US-CA"
    assert zip_code.name == "San Francisco"
    assert zip_code.country == "US"
    assert km(zip_code.centroid_lat, zip_code.centroid_lon, 37.79, -122.39) < 5

    denver = geo("metro", "Denver")
    assert denver.parent.code == "US-CO"
    assert denver.country == "US"
    assert denver.population > 500_000
    assert geo("metro", "London").parent.code == "GB-ENG"
    assert geo("metro", "London, CA").parent.code == "CA-ON"
    assert geo("metro", "Hyderabad").country == "IN"
    assert geo("metro", "Hyderabad, PK").country == "PK"
    assert geo("metro", "Munich").parent.code == "DE-BY"
    assert geo("metro", "Toronto").parent.code == "CA-ON"
    # No reliable admin1 -> ISO mapping for Japan: the metro hangs off the country.
    assert geo("metro", "Tokyo").parent.code == "JP"
    assert geo("metro", "Kansas City, US-KS").parent.code == "US-KS"

    hospitals = Industry.objects.select_related("parent").get(scheme="naics", code="622")
    assert hospitals.parent.code == "62"
    assert hospitals.level == 2
    assert hospitals.parent.level == 1
    business = Industry.objects.select_related("parent").get(scheme="sic", code="73")
    assert business.parent.code == "I"


def test_every_country_has_a_region_and_every_row_a_parent(loaded):
    assert not GeoArea.objects.filter(level="country").exclude(parent__level="region").exists()
    assert not GeoArea.objects.filter(level="state").exclude(parent__level="country").exists()
    assert not GeoArea.objects.filter(level="metro").exclude(parent__level__in=["state", "country"]).exists()
    assert not GeoArea.objects.filter(level="postal").exclude(parent__level="state").exists()
    assert not GeoArea.objects.filter(level="region").exclude(parent=None).exists()
    # A child always shares its parent's country.
    for level in ("state", "metro", "postal"):
        rows = GeoArea.objects.filter(level=level).values_list("country", "parent__country")
        assert all(country == parent for country, parent in rows), level


def test_geometries_are_valid_geojson(loaded):
    shapes = {}
    for area in GeoArea.objects.filter(geometry__isnull=False).only("level", "code", "geometry"):
        geom = shape(area.geometry)
        assert area.geometry["type"] in {"Polygon", "MultiPolygon"}, area.code
        assert geom.is_valid, area.code
        assert not geom.is_empty, area.code
        minx, miny, maxx, maxy = geom.bounds
        assert -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90, area.code
        shapes[area.level, area.code] = geom
    assert len([k for k in shapes if k[0] == "region"]) == 3
    assert len([k for k in shapes if k[0] == "state"]) == 52
    assert len([k for k in shapes if k[0] == "country"]) > 230

    denver = Point(-104.98, 39.74)
    assert shapes["state", "US-CO"].contains(denver)
    assert shapes["country", "US"].contains(denver)
    assert shapes["region", "AMER"].contains(denver)
    assert shapes["country", "DE"].contains(Point(11.58, 48.14))  # Munich
    assert shapes["region", "EMEA"].contains(Point(11.58, 48.14))
    assert shapes["region", "APAC"].contains(Point(139.69, 35.69))  # Tokyo
    # Centroids of shaped areas lie inside (or at least near) them.
    for level, code in [("state", "US-CA"), ("state", "US-HI"), ("country", "US"), ("country", "FR")]:
        area = geo(level, code)
        assert shapes[level, code].distance(Point(area.centroid_lon, area.centroid_lat)) < 0.1, code


def test_naics_codes_match_their_sector_by_prefix(loaded):
    sectors = set(Industry.objects.filter(scheme="naics", level=1).values_list("code", flat=True))
    assert {"31", "32", "33", "44", "45", "48", "49", "62"} <= sectors
    for code, parent in Industry.objects.filter(scheme="naics", level=2).values_list("code", "parent__code"):
        assert len(code) == 3 and code.startswith(parent)
    # Any 6-digit NAICS code finds its sector with a 2-character prefix.
    for six_digit in ("311111", "445110", "493110", "541511", "622110"):
        assert six_digit[:2] in sectors
        assert Industry.objects.filter(scheme="naics", code=six_digit[:3]).exists()


def test_command_reports_counts_and_skips_when_loaded(loaded):
    out = io.StringIO()
    call_command("load_reference", "--if-needed", stdout=out)
    assert "already loaded" in out.getvalue()
    out = io.StringIO()
    call_command("load_reference", stdout=out)
    text = out.getvalue()
    for level in ("region", "country", "state", "metro", "postal", "naics", "sic"):
        assert level in text
    assert "29," in text  # the postal count, formatted
