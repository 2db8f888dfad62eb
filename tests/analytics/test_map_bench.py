"""``manage.py bench_map`` runs at a tiny size, prints one JSON line with the issue's figures and
leaves nothing behind (no timing is asserted: the figures are for people to read)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command

from analytics.geo import reference_stamp_forget
from analytics.map_layers import map_layers_forget
from analytics.map_points import point_table_clear
from salesos.models import Account, GeoArea, Industry
from territories.models import TerritoryPlan
from tests.factories import make_account, make_plan

KEYS = {"viewport_p95_ms", "payload_p95_kb", "boundaries_kb", "boundaries_cached_ms", "accounts", "territories"}


@pytest.fixture
def reference(db):
    point_table_clear()
    reference_stamp_forget()
    map_layers_forget()
    cache.clear()
    square = {"type": "Polygon", "coordinates": [[[-100, 30], [-90, 30], [-90, 40], [-100, 40], [-100, 30]]]}
    region = GeoArea.objects.create(level="region", code="AMER", name="Americas")
    emea = GeoArea.objects.create(level="region", code="EMEA", name="EMEA")
    us = GeoArea.objects.create(level="country", code="US", name="United States", parent=region, country="US")
    de = GeoArea.objects.create(level="country", code="DE", name="Germany", parent=emea, country="DE")
    state = GeoArea.objects.create(level="state", code="US-TX", name="Texas", parent=us, country="US", geometry=square)
    for i in range(5):
        GeoArea.objects.create(level="postal", code=f"US-7{i}001", name="Town", parent=state, country="US",
                               centroid_lat=31 + i, centroid_lon=-95 - i)
    GeoArea.objects.create(level="metro", code="Berlin", name="Berlin", parent=de, country="DE",
                           centroid_lat=52.5, centroid_lon=13.4)
    Industry.objects.create(scheme="sic", code="A", title="Agriculture")


def run(*args: str) -> dict:
    out = io.StringIO()
    call_command("bench_map", "--json", "--accounts", "300", "--viewports", "6", *args, stdout=out,
                 stderr=io.StringIO())
    lines = out.getvalue().strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


def test_tiny_benchmark_prints_the_figures_and_cleans_up(reference):
    active = make_plan(name="Real plan")
    figures = run("--force")
    assert set(figures) >= KEYS
    assert figures["accounts"] == 300 and figures["territories"] > 5
    assert figures["boundaries_kb"] > 0 and figures["features_max"] > 0
    assert not Account.objects.filter(domain__endswith=".bench.example").exists()
    assert TerritoryPlan.objects.get(pk=active.pk).status == TerritoryPlan.Status.ACTIVE


def test_it_refuses_beside_real_accounts_or_without_reference_data(reference):
    make_account(name="Real customer")
    with pytest.raises(CommandError, match="not the benchmark's"):
        run()
    GeoArea.objects.filter(level="postal").delete()
    with pytest.raises(CommandError, match="reference data"):
        run("--force")
