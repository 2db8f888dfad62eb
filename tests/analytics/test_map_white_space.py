"""White space has one definition (``analytics.white_space``): the coverage dashboard's count and
the map's white-space layer name the same areas."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.cache import cache

from analytics.map_points import point_table_clear
from analytics.models import WhiteSpaceArea
from analytics.selectors.coverage import white_space
from analytics.services import coverage_snapshot_take
from analytics.white_space import is_white_space, white_space_areas
from salesos.models import GeoArea
from tests import factories
from tests.analytics import test_map

geo = test_map.geo
fresh_caches = test_map.fresh_caches
square = test_map.square


@pytest.fixture
def gaps(geo):
    """Beside the map's geography: a state (Gamma) and a metro (Springfield, in Beta) whose accounts
    all wait in the queue, and a metro of Alpha with one queued account beside a placed one."""
    GeoArea.objects.create(level="state", code="US-CC", name="Gamma", country="US", geometry=square(20, 10, 5))
    GeoArea.objects.create(
        level="metro", code="Springfield", name="Springfield", country="US", centroid_lat=12, centroid_lon=7
    )
    for i in range(2):
        factories.make_account(name=f"Gamma {i}", state="US-CC", lat=12, lon=22 + i, potential=Decimal(400))
    factories.make_account(
        name="Springfield queued", state="US-BB", metro="Springfield", lat=12, lon=7, potential=Decimal(50)
    )
    factories.make_account(
        name="Alphaville placed", territory=geo.west, state="US-AA", metro="Alphaville", lat=16, lon=-6
    )
    factories.make_account(name="Alphaville queued", state="US-AA", metro="Alphaville", lat=16, lon=-6)
    point_table_clear()
    cache.clear()
    return geo


def white_layer(client, user, metric="accounts") -> dict:
    client.force_login(user)
    response = client.get(f"/map/heat.json?white_space=on&metric={metric}")
    assert response.status_code == 200
    return json.loads(response.content)


def test_the_dashboard_and_the_map_count_the_same_white_space(gaps, client):
    coverage_snapshot_take()
    dashboard = white_space()
    layer = white_layer(client, gaps.admin)
    stored = set(WhiteSpaceArea.objects.filter(uncovered=True).values_list("level", "code"))
    drawn = {(f["properties"]["level"], f["properties"]["code"]) for f in layer["features"]}
    assert stored == {("state", "US-CC"), ("metro", "Springfield")}
    assert drawn == stored
    assert (
        layer["areas"]
        == {"state": dashboard.uncovered_states, "metro": dashboard.uncovered_metros}
        == {"state": 1, "metro": 1}
    )
    # Beta and Alphaville hold queued accounts but placed ones too: gaps, not white space.
    gaps_only = {(a.level, a.code) for a in white_space_areas(plan=gaps.plan) if not a.uncovered}
    assert {("state", "US-BB"), ("metro", "Alphaville"), ("state", "US-AA")} <= gaps_only
    assert not drawn & gaps_only


def test_the_layer_draws_queued_accounts_or_potential(gaps, client):
    by_code = {f["properties"]["code"]: f["properties"] for f in white_layer(client, gaps.admin)["features"]}
    assert (by_code["US-CC"]["value"], by_code["Springfield"]["value"]) == (2, 1)
    potential = white_layer(client, gaps.admin, metric="potential")
    assert {f["properties"]["code"]: f["properties"]["value"] for f in potential["features"]} == {
        "US-CC": 800,
        "Springfield": 50,
    }
    assert potential["legend"]["white_space"] is True


def test_an_account_placed_in_the_area_ends_its_white_space(gaps, client):
    assert ("state", "US-CC") in {
        (f["properties"]["level"], f["properties"]["code"]) for f in white_layer(client, gaps.admin)["features"]
    }
    factories.make_account(name="Gamma placed", territory=gaps.east, state="US-CC", lat=12, lon=23)
    codes = {f["properties"]["code"] for f in white_layer(client, gaps.admin)["features"]}
    assert "US-CC" not in codes and "Springfield" in codes


def test_white_space_is_for_the_roles_that_work_the_queue(gaps, client):
    assert white_layer(client, gaps.manager)["areas"] == {"state": 1, "metro": 1}
    rep = white_layer(client, gaps.rep)
    assert rep["features"] == [] and rep["areas"] == {"state": 0, "metro": 0}


def test_the_definition():
    assert is_white_space(accounts=3, unassigned=3)
    assert not is_white_space(accounts=3, unassigned=2)
    assert not is_white_space(accounts=0, unassigned=0)
