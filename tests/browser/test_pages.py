"""Each role logs in through the real login form and sees its own home page and areas."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

AREAS = ["territories", "routing", "planning", "analytics"]


def test_admin_sees_coverage_and_every_area(page: Page, live_server, world, login, shot):
    login(world.admin)
    expect(page.get_by_role("heading", level=1)).to_have_text("Coverage overview")
    expect(page.locator('[data-kpi="accounts"]')).to_have_text("27")
    expect(page.locator('[data-kpi="unassigned"]')).to_have_text("4")
    expect(page.get_by_text("Sales ops admin")).to_be_visible()
    shot("home-admin")
    for area in AREAS:
        page.get_by_role("navigation", name="Main").get_by_role("link", name=area.capitalize()).click()
        expect(page).to_have_url(f"{live_server.url}/{area}/")
        current = page.get_by_role("navigation", name="Main").locator('[aria-current="page"]')
        expect(current).to_have_text(re.compile(area.capitalize()))
        shot(f"{area}-admin")
    expect(page.get_by_role("link", name="Admin site")).to_be_visible()


def test_navbar_collapses_on_a_phone(page: Page, world, login, shot):
    page.set_viewport_size({"width": 390, "height": 844})
    login(world.admin)
    routing = page.get_by_role("navigation", name="Main").get_by_role("link", name="Routing")
    expect(routing).to_be_hidden()
    page.get_by_role("button", name="Toggle navigation").click()
    expect(routing).to_be_visible()
    expect(page.locator("#main-nav.show")).to_have_count(1)  # the collapse animation has finished
    shot("home-admin-phone")


def test_director_sees_managers_and_reps(page: Page, world, login, shot):
    login(world.director)
    expect(page.get_by_role("heading", level=1)).to_have_text("My organisation")
    team = page.get_by_role("table")
    expect(team).to_contain_text("Morgan Manager")
    expect(team).to_contain_text("Olivia Okafor")
    expect(team).to_contain_text("Riley Rep")
    expect(team).to_contain_text("Taylor Tran")
    shot("home-director")


def test_manager_sees_direct_reports_with_badges(page: Page, world, login, shot):
    login(world.manager)
    expect(page.get_by_role("heading", level=1)).to_have_text("My team")
    team = page.get_by_role("table")
    expect(team).to_contain_text("Riley Rep")
    expect(team).to_contain_text("Sam Seller")
    expect(team).not_to_contain_text("Taylor Tran")
    expect(team.get_by_text("On leave")).to_be_visible()
    shot("home-manager")
    page.get_by_role("link", name="Territories").first.click()
    shot("territories-manager")


def test_rep_sees_their_territory_and_searches_accounts(page: Page, world, login, shot):
    login(world.rep)
    expect(page.get_by_role("heading", level=1)).to_have_text("My territory")
    expect(page.get_by_role("heading", name="California")).to_be_visible()
    expect(page.get_by_text("Backup", exact=True)).to_be_visible()
    accounts = page.locator("#rep-accounts")
    expect(accounts).to_contain_text("Golden Labs 1")
    expect(accounts).not_to_contain_text("Atlantic Freight")
    shot("home-rep")
    page.get_by_label("Search accounts by name").fill("foods")
    expect(accounts).not_to_contain_text("Golden Labs 1")
    expect(accounts).to_contain_text("Golden Foods 2")
    shot("home-rep-search")


def test_rep_cannot_see_another_territory(page: Page, live_server, world, login, shot):
    login(world.rep)
    page.goto(f"{live_server.url}/territories/")
    table = page.get_by_role("table")
    expect(table).to_contain_text("AMER-W-CA")
    expect(table).to_contain_text("OVL-HC")
    expect(table).not_to_contain_text("AMER-E")
    expect(table).not_to_contain_text("Atlantic")
    shot("territories-rep")
    page.goto(f"{live_server.url}/routing/")
    shot("routing-rep")
    page.get_by_role("link", name="Analytics").first.click()
    expect(page).to_have_url(re.compile(r"/analytics/performance/$"))
    expect(page.get_by_role("heading", name="Performance by territory")).to_be_visible()
    shot("analytics-rep")


def test_logout(page: Page, live_server, world, login, shot):
    login(world.rep)
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot("login")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))


def test_user_without_a_role_sees_a_friendly_empty_state(page: Page, live_server, world, django_user_model, shot):
    django_user_model.objects.create_user(username="newbie", password="pw-Browser-123", first_name="Nia")
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("newbie")
    page.get_by_label("Password").fill("pw-Browser-123")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="You have no territory yet")).to_be_visible()
    shot("home-norole")


def test_wrong_password_shows_an_error(page: Page, live_server, world, shot):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("rep")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    shot("login-error")
