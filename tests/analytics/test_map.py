"""The map's selectors and endpoints against a hand-made geography: two square "states", a ZIP
inside one, accounts at known places."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal

import pytest
import shapely
from django.core.cache import cache
from shapely.geometry import shape

from analytics.geo import boundaries_build, reference_stamp_forget
from analytics.map_heat import heat_layer
from analytics.map_layers import boundaries_current, map_layers_forget
from analytics.map_points import PointFilter, Viewport, clusters, mask_of, point_table, point_table_clear
from analytics.map_selectors import MapQuery, map_boundaries, map_points, map_rep_locations
from salesos.models import Account, GeoArea, SalesProfile
from territories.grants import grants_rebuild
from tests import factories

Role = SalesProfile.Role
WORLD = Viewport(-180, -85, 180, 85, zoom=2)


def square(west, south, size):
    return {"type": "Polygon", "coordinates": [[[west, south], [west + size, south], [west + size, south + size],
                                                 [west, south + size], [west, south]]]}


@dataclass
class Geo:
    plan: object
    west: object
    east: object
    zip_t: object
    industry_t: object
    admin: object
    manager: object
    rep: object
    other_rep: object


@pytest.fixture(autouse=True)
def fresh_caches():
    point_table_clear()
    reference_stamp_forget()
    cache.clear()
    map_layers_forget()
    yield
    point_table_clear()
    cache.clear()


@pytest.fixture
def geo(db) -> Geo:
    country = GeoArea.objects.create(level="country", code="US", name="United States", country="US",
                                     geometry=square(-20, 0, 40))
    GeoArea.objects.create(level="state", code="US-AA", name="Alpha", country="US", parent=country,
                           geometry=square(-10, 10, 10), centroid_lat=15, centroid_lon=-5)
    state_b = GeoArea.objects.create(level="state", code="US-BB", name="Beta", country="US", parent=country,
                                     geometry=square(5, 10, 10), centroid_lat=15, centroid_lon=10)
    GeoArea.objects.create(level="postal", code="US-99001", name="Beta town", country="US", parent=state_b,
                           centroid_lat=12.0, centroid_lon=14.9)  # near the state's east edge: clipped
    plan = factories.make_plan(name="Map plan")
    admin = factories.make_user(Role.ADMIN, username="map_admin")
    manager = factories.make_user(Role.MANAGER, username="map_mgr")
    rep = factories.make_user(Role.REP, username="map_rep", manager=manager)
    other_mgr = factories.make_user(Role.MANAGER, username="map_mgr2")
    other_rep = factories.make_user(Role.REP, username="map_rep2", manager=other_mgr)
    west = factories.make_territory(plan, code="W", name="West side", rule={"field": "state", "op": "in",
                                                                            "value": ["US-AA"]})
    east = factories.make_territory(plan, code="E", name="East side", rule={"field": "state", "op": "in",
                                                                            "value": ["US-BB"]})
    zip_t = factories.make_territory(plan, code="E-Z", name="Beta town ZIP", parent=east,
                                     rule={"field": "postal_code", "op": "in", "value": ["99001"]})
    industry_t = factories.make_territory(plan, code="HC", name="Health", type="industry",
                                          rule={"field": "industry", "op": "in", "value": ["62"]})
    factories.assign(west, rep)
    factories.assign(east, other_rep)
    for i in range(6):  # a tight group in Alpha
        factories.make_account(name=f"Alpha {i}", territory=west, state="US-AA", lat=15 + i * 0.01, lon=-5,
                               annual_revenue=Decimal(1000), potential=Decimal(10))
    for i in range(3):
        factories.make_account(name=f"Beta {i}", territory=east, state="US-BB", lat=14, lon=8 + i * 2,
                               annual_revenue=Decimal(5000))
    factories.make_account(name="Health A", territory=industry_t, state="US-BB", lat=11, lon=6)
    factories.make_account(name="Health B", territory=industry_t, state="US-BB", lat=13, lon=9)
    factories.make_account(name="Nowhere", state="US-BB", lat=12, lon=12, potential=Decimal(700))  # unassigned
    factories.make_account(name="No location", territory=west, state="US-AA")
    grants_rebuild()
    return Geo(plan, west, east, zip_t, industry_t, admin, manager, rep, other_rep)


def features(text):
    return {f["properties"]["code"]: f for f in json.loads(text)["features"]}


def test_a_state_territory_is_drawn_as_its_state_and_a_zip_territory_as_cells_clipped_to_the_state(geo):
    layer = boundaries_build(geo.plan, point_table(geo.plan))
    drawn = {json.loads(f)["properties"]["code"]: json.loads(f) for f in layer.features.values()}
    west = shape(drawn["W"]["geometry"])
    assert drawn["W"]["properties"]["source"] == "rule"
    assert west.area == pytest.approx(100, rel=0.01)
    assert west.bounds == pytest.approx((-10, 10, 0, 20), abs=0.01)
    zip_shape = shape(drawn["E-Z"]["geometry"])
    beta = shape(square(5, 10, 10))
    assert 0 < zip_shape.area < 0.5  # a few H3 cells, not the state
    assert zip_shape.buffer(-0.001).within(beta)  # clipped at the state's edge
    assert zip_shape.distance(shapely.Point(14.9, 12.0)) == 0
    # Distinct colours.
    assert len({f["properties"]["color"] for f in drawn.values()}) == len(drawn)


def test_a_non_geographic_territory_is_drawn_from_its_accounts(geo):
    layer = boundaries_build(geo.plan, point_table(geo.plan))
    health = json.loads(layer.features[geo.industry_t.pk])
    hull = shape(health["geometry"])
    assert health["properties"]["source"] == "accounts"
    assert hull.contains(shapely.Point(6, 11)) and hull.contains(shapely.Point(9, 13))
    assert not hull.contains(shapely.Point(-5, 15))


def test_levels_pick_leaves_or_a_depth(geo):
    leaves = features(map_boundaries(user=geo.admin, query=MapQuery(level="leaf")))
    assert set(leaves) == {"W", "E-Z", "HC"}
    top = features(map_boundaries(user=geo.admin, query=MapQuery(level="0")))
    assert set(top) == {"W", "E", "HC"}
    assert set(features(map_boundaries(user=geo.admin, query=MapQuery(level="all", types=frozenset({"industry"}))))) \
        == {"HC"}


def test_clusters_gather_nearby_accounts_and_pins_stand_alone(geo):
    table = point_table(geo.plan)
    assert len(table) == 12  # the account without a location is not on the map
    world = clusters(table, PointFilter(), WORLD)
    assert world["total"] == 12
    assert sum(c[2] for c in world["clusters"]) + len(world["pins"]) == 12
    assert max(c[2] for c in world["clusters"]) >= 6  # the Alpha group is one cluster at world zoom
    street = clusters(table, PointFilter(), Viewport(-5.1, 14.9, -4.9, 15.1, zoom=16))
    assert street["clusters"] == [] and len(street["pins"]) == 6
    assert {p[3] for p in street["pins"]} == {geo.west.pk}


def test_filters_change_what_is_counted(geo):
    table = point_table(geo.plan)

    def total(**kw):
        return clusters(table, PointFilter(**kw), WORLD)["total"]

    assert total(statuses=frozenset({"unassigned"})) == 1
    assert total(statuses=frozenset({"assigned"})) == 11
    assert total(types=frozenset({"industry"})) == 2
    assert total(bands=frozenset({"250-999"})) == 12  # the factory's 250 employees
    assert total(bands=frozenset({"1-49"})) == 0


def test_a_rep_sees_only_their_territory_and_its_accounts(geo):
    drawn = features(map_boundaries(user=geo.rep, query=MapQuery(level="all")))
    assert set(drawn) == {"W"}
    points = map_points(user=geo.rep, query=MapQuery(), view=WORLD)
    assert points["total"] == 6
    street = map_points(user=geo.rep, query=MapQuery(), view=Viewport(-20, 0, 20, 40, zoom=16))
    assert {p[3] for p in street["pins"]} == {geo.west.pk}


def test_a_manager_sees_the_team_and_the_unassigned_queue_an_admin_everything(geo):
    assert set(features(map_boundaries(user=geo.manager, query=MapQuery(level="all")))) == {"W"}
    # Managers work the unassigned queue (salesos.roles.works_queue), as on the accounts list.
    assert map_points(user=geo.manager, query=MapQuery(), view=WORLD)["total"] == 7
    assert map_points(user=geo.admin, query=MapQuery(), view=WORLD)["total"] == 12
    assert set(features(map_boundaries(user=geo.admin, query=MapQuery(level="all")))) == {"W", "E", "E-Z", "HC"}


def test_heat_sums_the_metric_per_state(geo):
    table = point_table(geo.plan)
    every = mask_of(table, PointFilter())
    heat = json.loads(heat_layer(table, every, metric="revenue", level="state", view=WORLD))
    by_state = {f["properties"]["code"]: f["properties"] for f in heat["features"]}
    assert by_state["US-AA"]["value"] == 6 * 1000
    assert by_state["US-BB"]["value"] == 3 * 5000 + 3 * 25_000_000  # the factory's default revenue
    assert by_state["US-BB"]["accounts"] == 6
    assert heat["legend"]["colors"] and heat["features"][0]["properties"]["class"] >= 0


def test_hexagons_cover_the_accounts_in_view(geo):
    table = point_table(geo.plan)
    hexes = json.loads(heat_layer(table, mask_of(table, PointFilter()), metric="accounts", level="hex",
                                  view=Viewport(-20, 0, 20, 40, zoom=5)))
    assert sum(f["properties"]["accounts"] for f in hexes["features"]) == 12
    assert all(f["geometry"]["type"] == "Polygon" for f in hexes["features"])


def test_rep_locations_are_opt_in_and_shown_to_managers_and_admins_only(geo, client):
    for user in (geo.rep, geo.other_rep):
        SalesProfile.objects.filter(user=user).update(home_city="Alphaville", home_lat=15.0, home_lon=-5.0)
    assert map_rep_locations(user=geo.admin) == []  # nobody opted in
    client.force_login(geo.rep)
    assert client.post("/map/location/", {"share": "on"}).status_code == 302
    assert SalesProfile.objects.get(user=geo.rep).share_location
    assert [r["id"] for r in map_rep_locations(user=geo.manager)] == [geo.rep.pk]
    assert [r["id"] for r in map_rep_locations(user=geo.admin)] == [geo.rep.pk]
    assert map_rep_locations(user=geo.other_rep) == []
    assert map_rep_locations(user=geo.rep) == []
    other_manager = SalesProfile.objects.get(user=geo.other_rep).manager
    assert map_rep_locations(user=other_manager) == []
    client.post("/map/location/", {})
    assert not SalesProfile.objects.get(user=geo.rep).share_location


def test_bad_map_requests_get_a_message_not_a_500(geo, client):
    client.force_login(geo.admin)
    for query in ("bbox=1,2,3&zoom=4", "bbox=a,b,c,d&zoom=4", "bbox=10,0,-10,5&zoom=4", "bbox=0,0,1,1&zoom=99",
                  "bbox=nan,0,1,1&zoom=3", "bbox=0,0,1,1&zoom=3&status=bogus", "bbox=0,0,1,1&zoom=3&level=x"):
        response = client.get(f"/map/points.json?{query}")
        assert response.status_code == 400, query
        assert response.json()["error"]
    response = client.get("/map/heat.json?bbox=0,0,1,1&zoom=3&metric=bogus&area=state")
    assert response.status_code == 400
    ok = client.get("/map/points.json?bbox=-20,0,20,40&zoom=4&status=assigned")
    assert ok.status_code == 200 and ok.json()["total"] == 11


def test_the_cards_answer_404_for_what_the_user_may_not_see(geo, client):
    client.force_login(geo.rep)
    assert client.get(f"/map/territories/{geo.west.pk}/card/").status_code == 200
    assert client.get(f"/map/territories/{geo.east.pk}/card/").status_code == 404
    body = client.get(f"/map/territories/{geo.west.pk}/card/").content.decode()
    assert "West side" in body and "7" in body  # six located accounts and one without a location


@pytest.mark.parametrize("n", [3, 30])
def test_the_map_endpoints_make_a_bounded_number_of_queries(geo, client, django_assert_max_num_queries, n):
    for i in range(n):
        factories.make_account(name=f"More {i}", territory=geo.west, state="US-AA", lat=16, lon=-6 + i * 0.01)
    client.force_login(geo.manager)
    with django_assert_max_num_queries(12):
        assert client.get("/map/points.json?bbox=-20,0,20,40&zoom=5").status_code == 200
    boundaries_current(geo.plan)  # the layer is drawn by its task (inline here), then read back by the request
    map_layers_forget()
    with django_assert_max_num_queries(14):
        assert client.get("/map/boundaries.json?level=all").status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/map/heat.json?bbox=-20,0,20,40&zoom=5&metric=accounts&area=state").status_code == 200


def test_a_rectangle_of_accounts_becomes_a_draft_proposal_and_moves_nothing(geo, client):
    from planning.models import Reassignment
    from territories.placement import current_territories

    beta = list(Account.objects.filter(name__startswith="Beta").order_by("pk").values_list("pk", flat=True))
    client.force_login(geo.admin)
    rectangle = {"bbox": "7,13.5,13,14.5", "zoom": "6"}
    first = client.post("/map/adjust/preview/", rectangle)
    assert first.status_code == 200 and "3 accounts selected" in first.content.decode()
    preview = client.post("/map/adjust/preview/", {**rectangle, "to_territory": geo.west.pk})
    body = preview.content.decode()
    assert "3 accounts to West side" in body and "East side: 3" in body
    done = client.post("/map/adjust/propose/", {**rectangle, "to_territory": geo.west.pk, "reason": "Closer to Alpha"})
    assert done.status_code == 200 and "draft" in done.content.decode().lower()
    proposal = Reassignment.objects.get()
    assert proposal.kind == Reassignment.Kind.MOVE_ACCOUNTS and proposal.status == Reassignment.Status.DRAFT
    assert proposal.change == {"accounts": beta, "to_territory": geo.west.pk}
    # Nothing moved: the active plan changes only when the proposal executes.
    assert {t.pk for t in current_territories(beta).values()} == {geo.east.pk}


def test_adjusting_is_for_those_who_may_propose_and_bad_input_gets_a_message(geo, client):
    client.force_login(geo.rep)
    assert client.post("/map/adjust/preview/", {"bbox": "7,13.5,13,14.5"}).status_code == 404
    client.force_login(geo.manager)
    # The manager's team holds West only: the East accounts in the rectangle are not theirs to move.
    response = client.post("/map/adjust/preview/", {"bbox": "7,13.5,13,14.5", "to_territory": geo.west.pk})
    assert "No account you may move" in response.content.decode()
    assert client.post("/map/adjust/preview/", {"bbox": "x"}).status_code == 400
    client.force_login(geo.admin)
    bad = client.post("/map/adjust/propose/", {"bbox": "7,13.5,13,14.5", "to_territory": geo.east.pk})
    assert bad.status_code == 400 and "already in" in bad.content.decode()


def test_a_lasso_selects_the_accounts_inside_it_not_its_bounding_box(geo, client):
    from planning.models import Reassignment

    beta = list(Account.objects.filter(name__startswith="Beta").order_by("lon").values_list("pk", flat=True))
    client.force_login(geo.admin)
    # A triangle over Beta 0 (lon 8) and Beta 1 (lon 10); its bounding box also holds Beta 2 (lon 12).
    lasso = {"polygon": "7 13.5;13 13.5;7 14.6", "bbox": "7,13.5,13,14.6", "zoom": "6"}
    first = client.post("/map/adjust/preview/", lasso)
    assert first.status_code == 200 and "2 accounts selected" in first.content.decode()
    assert 'name="polygon" value="7 13.5;13 13.5;7 14.6"' in first.content.decode()  # carried to the next step
    done = client.post("/map/adjust/propose/", {**lasso, "to_territory": geo.west.pk, "reason": "Lasso"})
    assert done.status_code == 200
    assert Reassignment.objects.get().change == {"accounts": sorted(beta[:2]), "to_territory": geo.west.pk}


def test_a_bad_lasso_gets_a_message_and_changes_nothing(geo, client):
    from planning.models import Reassignment

    client.force_login(geo.admin)
    for polygon in ("7 13;8", "a b;c d;e f", "7 13;8 13;9 13", "7 13;800 13;7 14", "7 13;" * 600):
        response = client.post("/map/adjust/propose/", {"polygon": polygon, "to_territory": geo.west.pk})
        assert response.status_code == 400 and "draw it again" in response.content.decode()
        assert "lasso" in response.content.decode().lower()
    assert not Reassignment.objects.exists()
