"""The accounts list, the account page's activity log and the routing explanation in a real
Chromium at 1440x900: filters narrow the list (htmx, the URL follows), an activity logged on the
account page shows at once, and no page is wider than the window."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from salesos.models import Activity
from territories import placement
from tests.browser.conftest import PASSWORD
from tests.routing.pages import World, build_world

pytestmark = pytest.mark.browser
WIDTH, HEIGHT = 1440, 900


@pytest.fixture
def record_world(transactional_db) -> World:
    world = build_world()
    for user in world.users.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    # As in the demo: the admin also gets the "Admin site" button, the widest navbar there is.
    admin = world.users["admin"]
    admin.is_staff, admin.first_name, admin.last_name = True, "Amara", "Lewis"
    admin.save(update_fields=["is_staff", "first_name", "last_name"])
    return world


def no_horizontal_overflow(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= WIDTH, f"{page.url} is {width} px wide in a {WIDTH} px window"


def test_accounts_list_filters(page: Page, live_server, record_world, login, shot):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    login(record_world.users["admin"])
    page.get_by_role("link", name="Accounts").first.click()
    page.wait_for_url(re.compile(r"/accounts/$"))
    results = page.locator("#results")
    for name in ("Golden Labs", "Atlantic Freight", "Tokyo Robotics"):
        expect(results.get_by_role("link", name=name)).to_be_visible()
    no_horizontal_overflow(page)
    shot("accounts-list")

    page.get_by_label("Territory (and below)").select_option(label="US-E East")
    expect(results.get_by_role("link", name="Atlantic Freight")).to_be_visible()
    expect(results.get_by_role("link", name="Golden Labs")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"territory=\d+"))
    expect(page.get_by_role("link", name="Export these as CSV")).to_have_attribute("href", re.compile(r"territory="))

    page.get_by_role("link", name="Clear").click()
    page.get_by_label("Account name").fill("tokyo")
    page.get_by_role("button", name="Filter").click()
    expect(results.get_by_role("link", name="Tokyo Robotics")).to_be_visible()
    expect(results.get_by_role("link", name="Atlantic Freight")).to_have_count(0)

    page.get_by_label("Country").fill("U1")
    page.get_by_role("button", name="Filter").click()
    expect(results).to_contain_text("Use a two-letter country code")
    shot("accounts-list-bad-filter")


def test_rep_logs_a_call_on_the_account_page(page: Page, live_server, record_world, login, shot):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    login(record_world.users["rep"])
    page.goto(f"{live_server.url}/accounts/")
    page.locator("#results").get_by_role("link", name="Golden Labs").click()
    expect(page.get_by_role("heading", name="Golden Labs", level=1)).to_be_visible()
    activities = page.locator("#activities")
    activities.get_by_role("button", name="Log").click()  # no note yet
    expect(activities).to_contain_text("Write a short note of what happened.")
    activities.get_by_label("Meeting").check()
    activities.get_by_label("Note").fill("Site visit with the plant manager")
    activities.get_by_role("button", name="Log").click()
    expect(activities).to_contain_text("Meeting: Site visit with the plant manager")
    assert Activity.objects.filter(account=record_world.own, kind="meeting").count() == 1
    no_horizontal_overflow(page)
    shot("account-activity-logged")
    # The territory and owner on the page are links.
    where = placement.placement(record_world.own)
    page.get_by_role("link", name=re.compile(where.territory.name)).first.click()
    expect(page).to_have_url(re.compile(rf"/territories/{where.territory.pk}/$"))


def test_explanation_page_fits_the_window(page: Page, live_server, record_world, login, shot):
    page.set_viewport_size({"width": WIDTH, "height": HEIGHT})
    login(record_world.users["admin"])
    for account in (record_world.own, record_world.foreign, record_world.far):
        page.goto(f"{live_server.url}/routing/accounts/{account.pk}/explain/")
        no_horizontal_overflow(page)
    shot("routing-explain-1440")
