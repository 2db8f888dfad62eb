"""The map in a real browser: it draws territory boundaries and account clusters, filters change
what is drawn, a click opens a card, and a rep sees only their own territory."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from playwright.sync_api import Page, expect

from analytics.geo import reference_stamp_forget
from analytics.map_layers import map_layers_forget
from analytics.map_points import point_table_clear
from planning.models import FiscalPeriod, Quota, Reassignment
from salesos.models import Account, GeoArea, Opportunity
from salesos.reference import DATA_DIR
from territories.models import Territory
from tests import factories

pytestmark = pytest.mark.browser

CITIES = {"San Francisco": (37.77, -122.42), "Los Angeles": (34.05, -118.24), "San Diego": (32.72, -117.16),
          "Oakland": (37.80, -122.27), "Seattle": (47.61, -122.33), "Boston": (42.36, -71.06),
          "Munich": (48.14, 11.58)}


@pytest.fixture
def on_the_map(world):
    """The browser world with locations, state boundaries from the shipped data, and state rules."""
    with gzip.open(DATA_DIR / "us_states.geojson.gz", "rt", encoding="utf-8") as fh:
        states = {f["properties"]["code"]: f for f in json.load(fh)["features"]}
    for code in ("US-CA", "US-WA", "US-OR", "US-MA", "US-NY"):
        f = states[code]
        GeoArea.objects.create(level="state", code=code, name=f["properties"]["name"], country="US",
                               geometry=f["geometry"])
    for city, (lat, lon) in CITIES.items():
        Account.objects.filter(city=city).update(lat=lat, lon=lon)
    # Spread each city's accounts a little so street zoom shows pins.
    for i, account in enumerate(Account.objects.exclude(lat=None).order_by("pk")):
        Account.objects.filter(pk=account.pk).update(lat=account.lat + (i % 5) * 0.01, lon=account.lon + (i % 3) * 0.01)
    rules = {"AMER-W-CA": ["US-CA"], "AMER-W-PNW": ["US-WA", "US-OR"], "AMER-E": ["US-MA", "US-NY"]}
    for code, values in rules.items():
        Territory.objects.filter(code=code).update(rule={"field": "state", "op": "in", "value": values})
    point_table_clear()
    reference_stamp_forget()
    map_layers_forget()
    cache.clear()  # other tests' reference areas (ids come back after a rollback)
    return world


def counts(page: Page) -> dict[str, int]:
    data = page.locator("#map").evaluate("el => ({...el.dataset})")
    return {k[: -len("Count")]: int(v) for k, v in data.items() if k.endswith("Count")}


def wait_ready(page: Page) -> None:
    expect(page.locator("#map")).to_have_attribute("data-ready", "1", timeout=15_000)


def test_the_map_draws_boundaries_and_clusters_and_filters_change_them(page: Page, live_server, on_the_map, login,
                                                                       shot):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(on_the_map.admin)
    page.goto(f"{live_server.url}/map/")
    wait_ready(page)
    drawn = counts(page)
    assert drawn["boundaries"] == 3  # California, Pacific Northwest, East Coast
    # Drawn by its task on the first view (inline in tests), so the layer is the current one.
    expect(page.locator("#map")).to_have_attribute("data-boundaries-state", "ready")
    assert drawn["clusters"] >= 1 and drawn["clusters"] + drawn["pins"] >= 3
    assert page.locator(".leaflet-overlay-pane path").count() >= 3
    assert page.locator(".map-cluster").count() == drawn["clusters"]
    shot("map-admin")

    page.get_by_label("Heat map").check()
    expect(page.locator("#map-legend")).to_be_visible()
    expect(page.locator("#map-legend")).to_contain_text("Accounts")
    expect(page.locator("#map")).not_to_have_attribute("data-heat-count", "0")
    shot("map-admin-heat")
    page.get_by_label("Heat map").uncheck()
    page.get_by_label("White space (states and metros no territory covers)").check()
    expect(page.locator("#map-status")).to_contain_text("white-space areas")
    page.get_by_label("White space (states and metros no territory covers)").uncheck()

    # Filters: only unassigned accounts (all of them in Munich, out of view) and a type with no shapes.
    page.get_by_label("Unassigned").check()
    expect(page.locator("#map")).to_have_attribute("data-pins-count", "0")
    expect(page.locator("#map")).to_have_attribute("data-clusters-count", "0")
    page.get_by_label("Unassigned").uncheck()
    page.get_by_label("Territory type").select_option("named_account")
    expect(page.locator("#map")).to_have_attribute("data-boundaries-count", "0")
    page.get_by_label("Territory type").select_option([])
    expect(page.locator("#map")).to_have_attribute("data-boundaries-count", "3")

    # A click on a territory opens its card; a click on a cluster zooms in.
    page.locator(".leaflet-overlay-pane path").first.click()
    expect(page.locator("#map-card")).to_be_visible()
    expect(page.locator("#map-card")).to_contain_text("Open territory")
    shot("map-admin-card")
    page.locator("#map-card [data-close-card]").click()
    zoom_before = int(page.locator("#map").get_attribute("data-view-zoom"))
    page.locator(".map-cluster").first.click()
    expect(page.locator("#map")).to_have_attribute("data-view-zoom", str(zoom_before + 2))


def test_a_rep_sees_only_their_territories(page: Page, live_server, on_the_map, login, shot):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(on_the_map.rep)
    page.goto(f"{live_server.url}/map/")
    wait_ready(page)
    drawn = counts(page)
    assert drawn["boundaries"] == 2  # California (primary) and Pacific Northwest (backup), not the East Coast
    expect(page.locator("#map-status")).to_contain_text("2 territories")
    shot("map-rep")
    # What the page's own session gets: every account at street zoom sits in their territories.
    pins = page.request.get(f"{live_server.url}/map/points.json?bbox=-180,-85,180,85&zoom=18").json()["pins"]
    held = set(Territory.objects.filter(pk__in={p[3] for p in pins}).values_list("code", flat=True))
    assert pins and None not in {p[3] for p in pins} and held <= {"AMER-W-CA", "AMER-W-PNW"}
    expected = Account.objects.filter(city__in=["San Francisco", "Los Angeles", "San Diego", "Oakland", "Seattle"])
    assert len(pins) == expected.count()
    # No white space for a rep (the unassigned queue is not theirs): no layer to tick, nothing served.
    expect(page.locator("#layer-whitespace")).to_have_count(0)
    assert page.request.get(f"{live_server.url}/map/heat.json?white_space=on").json()["features"] == []


def test_a_rectangle_drawn_over_accounts_becomes_a_draft_proposal(page: Page, live_server, on_the_map, login, shot):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(on_the_map.admin)
    page.goto(f"{live_server.url}/map/")
    wait_ready(page)
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.get_by_role("button", name="Select accounts to move").click()
    # The west coast: the left third of a map centred on the middle of the United States.
    page.mouse.move(box["x"] + 80, box["y"] + 120)  # clear of the zoom buttons
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 - 180, box["y"] + box["height"] - 30, steps=8)
    page.mouse.up()
    card = page.locator("#map-card")
    expect(card).to_contain_text("17 accounts selected")
    card.get_by_label("Move to").select_option(label="AMER-E · East Coast")
    card.get_by_role("button", name="Preview impact").click()
    expect(card).to_contain_text("17 accounts to East Coast")
    shot("map-adjust-preview")
    card.get_by_label("Reason").fill("Coverage test")
    card.get_by_role("button", name="Create proposal").click()
    expect(card.locator('[data-card="adjust-done"]')).to_contain_text("Saved as draft")
    proposal = Reassignment.objects.get()
    assert proposal.status == Reassignment.Status.DRAFT and len(proposal.change["accounts"]) == 17


def test_a_lasso_drawn_around_accounts_becomes_a_draft_proposal(page: Page, live_server, on_the_map, login, shot):
    page.set_viewport_size({"width": 1440, "height": 900})
    login(on_the_map.admin)
    page.goto(f"{live_server.url}/map/")
    wait_ready(page)
    box = page.locator("#map").bounding_box()
    assert box is not None
    page.get_by_role("button", name="Lasso accounts to move").click()
    # A free shape around the west coast, drawn point by point.
    x, y, w, h = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(x + 80, y + 120)
    page.mouse.down()
    for px, py in ((x + 80, y + h - 30), (x + w / 2 - 180, y + h - 30), (x + w / 2 - 220, y + 200), (x + 90, y + 110)):
        page.mouse.move(px, py, steps=6)
    page.mouse.up()
    card = page.locator("#map-card")
    expect(card).to_contain_text("accounts selected")
    shot("map-lasso")
    selected = int(card.locator("h2").inner_text().split()[0])
    assert selected > 0
    card.get_by_label("Move to").select_option(label="AMER-E · East Coast")
    card.get_by_role("button", name="Preview impact").click()
    expect(card).to_contain_text(f"{selected} accounts to East Coast")
    card.get_by_label("Reason").fill("Lasso test")
    card.get_by_role("button", name="Create proposal").click()
    expect(card.locator('[data-card="adjust-done"]')).to_contain_text("Saved as draft")
    proposal = Reassignment.objects.get()
    assert proposal.status == Reassignment.Status.DRAFT and len(proposal.change["accounts"]) == selected
    # The lasso's accounts are on the west coast: none from the East Coast or Munich.
    cities = set(Account.objects.filter(pk__in=proposal.change["accounts"]).values_list("city", flat=True))
    assert cities and cities <= {"San Francisco", "Los Angeles", "San Diego", "Oakland", "Seattle"}


def test_the_heat_map_shows_quota_attainment_by_territory(page: Page, live_server, on_the_map, login, shot):
    today = timezone.localdate()
    california = Territory.objects.get(code="AMER-W-CA")
    quarter = FiscalPeriod.objects.get(start_date__lte=today, end_date__gte=today, kind=FiscalPeriod.Kind.QUARTER)
    Quota.objects.create(territory=california, period=quarter, amount=Decimal(10_000))
    factories.make_opportunity(Account.objects.filter(city="San Francisco").first(), amount=11_000, close_date=today,
                               status=Opportunity.Status.WON, stage=Opportunity.Stage.CLOSED_WON, territory=california)
    page.set_viewport_size({"width": 1440, "height": 900})
    login(on_the_map.admin)
    page.goto(f"{live_server.url}/map/")
    wait_ready(page)
    expect(page.get_by_label("Heat level")).to_have_value("state")
    page.get_by_label("Heat metric").select_option("attainment")
    # Attainment is drawn per territory: the level says so, and the area levels are not offered.
    expect(page.get_by_label("Heat level")).to_have_value("territory")
    expect(page.locator('#heat-level option[value="state"]')).to_be_disabled()
    page.get_by_label("Heat map").check()
    expect(page.locator("#map-legend")).to_contain_text("Quota attainment")
    expect(page.locator("#map-legend")).to_contain_text("100% – 120%")
    expect(page.locator("#map")).to_have_attribute("data-heat-count", "3")  # one shape per drawn territory
    # California made 110 % of its quota (the 100-120 % band); the others have no quota this quarter.
    expect(page.locator('.leaflet-heat-pane path[fill="#a6d96a"]')).to_have_count(1)
    expect(page.locator('.leaflet-heat-pane path[fill="#c9ced6"]')).to_have_count(2)
    expect(page.locator("#map-legend")).to_contain_text("no quota in the period")
    shot("map-attainment")
    # Back to an area metric: the level chosen before comes back.
    page.get_by_label("Heat metric").select_option("accounts")
    expect(page.get_by_label("Heat level")).to_have_value("state")
    expect(page.locator('#heat-level option[value="state"]')).to_be_enabled()
