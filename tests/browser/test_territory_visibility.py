"""Who sees which territory, in a real browser: a rep sees only their own (another one is a 404
even by its address), a manager sees their team's, and the tree expands and collapses."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from territories.grants import grants_rebuild
from territories.models import Territory

pytestmark = pytest.mark.browser


@pytest.fixture
def granted(world):
    grants_rebuild()  # the browser world is built with factories, outside the services
    return world


def test_rep_cannot_see_another_territory(page: Page, live_server, granted, login, shot):
    login(granted.rep)
    page.goto(f"{live_server.url}/territories/")
    tree = page.locator("#territory-tree")
    expect(tree).to_contain_text("AMER-W-CA")
    expect(tree).to_contain_text("AMER-W-PNW")  # backup slot
    expect(tree).not_to_contain_text("AMER-E")
    expect(page.get_by_role("link", name="Routing")).to_have_count(0)  # nothing a rep may do there
    shot("visibility-rep-tree")

    page.get_by_label("Search code or name").fill("east")
    expect(page.locator("#territory-results")).to_contain_text("No territory you can see matches")

    east = Territory.objects.get(code="AMER-E")
    response = page.goto(f"{live_server.url}/territories/{east.pk}/")
    assert response is not None and response.status == 404
    shot("visibility-rep-404")

    own = Territory.objects.get(code="AMER-W-CA")
    response = page.goto(f"{live_server.url}/territories/{own.pk}/")
    assert response is not None and response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("California")
    expect(page.locator("#territory-accounts")).to_contain_text("Golden Labs 1")
    expect(page.get_by_text("Move this territory")).to_have_count(0)
    shot("visibility-rep-detail")


def test_manager_sees_their_teams_territories(page: Page, live_server, granted, login, shot):
    login(granted.manager)
    page.goto(f"{live_server.url}/territories/")
    tree = page.locator("#territory-tree")
    expect(tree).to_contain_text("AMER-W-CA")
    expect(tree).to_contain_text("AMER-W-PNW")
    expect(tree).not_to_contain_text("AMER-E")
    expect(tree).to_contain_text("OVL-HC")  # a direct report's overlay slot is the team's too
    shot("visibility-manager-tree")
    page.get_by_role("link", name=re.compile("Pacific Northwest")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Pacific Northwest")
    expect(page.get_by_text("On leave")).to_be_visible()


def test_admin_expands_and_collapses_the_tree(page: Page, live_server, granted, login, shot):
    login(granted.admin)
    page.goto(f"{live_server.url}/territories/")
    tree = page.locator("#territory-tree")
    expect(tree).to_contain_text("AMER-W")  # AMER is opened one level down
    expect(tree).not_to_contain_text("AMER-W-CA")
    west = Territory.objects.get(code="AMER-W")
    toggle = page.locator(f'.tree-toggle[data-node="{west.pk}"]')
    toggle.click()
    expect(tree).to_contain_text("AMER-W-CA")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    shot("tree-expanded")
    toggle.click()
    expect(tree).not_to_contain_text("AMER-W-CA")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.get_by_label("Search code or name").fill("pacific")
    expect(page.locator("#territory-results")).to_contain_text("AMER › AMER-W")
    shot("tree-search")
