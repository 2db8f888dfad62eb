"""Routing pages in a real browser: an admin creates an account that lands in a territory at once,
reads why, and routes an account from the unassigned queue by hand."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from routing import services
from salesos.models import Account
from territories import placement
from tests.browser.conftest import PASSWORD
from tests.routing.pages import World, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def routing_world(transactional_db) -> World:
    world = build_world()
    for user in world.users.values():
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    for i, (name, city, industry) in enumerate([
        ("Bavaria Motors", "Munich", "3361"),
        ("Isar Health", "Munich", "622"),
        ("Nuremberg Tools", "Nuremberg", "3332"),
    ]):
        services.account_save(account=Account(
            name=name, domain=f"{name.split()[0].lower()}.example", country="DE", region="EMEA", state="DE-BY",
            city=city, industry_code=industry, employees=150 * (i + 1), annual_revenue=Decimal(7_500_000 * (i + 1)),
        ))
    services.account_save(account=Account(name="Lone Star Energy", country="US", state="US-TX", city="Austin"))
    return world


def test_admin_creates_an_account_and_reads_why_it_landed_there(page: Page, live_server, routing_world, login, shot):
    login(routing_world.users["admin"])
    page.goto(f"{live_server.url}/routing/")
    page.get_by_role("link", name="New account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("New account")

    # A first try with mistakes: the server answers beside each field.
    page.get_by_label("Name").fill("Kaiser Clinics")
    page.get_by_label("Country").fill("US")
    page.get_by_label("State / province").fill("ZZ")
    page.get_by_label("Employees").fill("-5")
    page.get_by_role("button", name="Create and route").click()
    expect(page.get_by_text("“US-ZZ” is not a known state or province of US")).to_be_visible()
    expect(page.get_by_text("Employees cannot be negative.")).to_be_visible()
    shot("routing-account-form-errors")

    page.get_by_label("State / province").fill("CA")
    page.get_by_label("City").fill("Oakland")
    page.get_by_label("Industry").fill("622110")
    page.get_by_label("Employees").fill("1200")
    page.get_by_label("Annual revenue (USD)").fill("45000000")
    page.get_by_role("button", name="Create and route").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Kaiser Clinics")
    expect(page.get_by_role("alert")).to_contain_text("Routed to W-HC West-Healthcare, owner Keisha Lee")
    expect(page.locator('[data-territory="W-HC"]')).to_be_visible()
    shot("routing-account-detail")

    page.get_by_role("link", name="Why this territory?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Why is Kaiser Clinics in West-Healthcare?")
    winner = page.locator("tr.is-winner").first
    expect(winner).to_contain_text("W-HC")
    expect(winner).to_contain_text("Won")
    expect(page.get_by_text("tier single comes after hybrid (W-HC)").first).to_be_visible()
    expect(page.locator('[data-live="same"]')).to_be_visible()
    shot("routing-explain")

    # Lock it elsewhere and back.
    page.get_by_label("Lock to a territory").fill("US-E")
    page.get_by_role("button", name="Lock", exact=True).click()
    expect(page.get_by_role("alert")).to_contain_text("Locked to US-E East.")
    expect(page.locator('[data-lock="locked"]')).to_be_visible()
    shot("routing-explain-locked")
    page.get_by_role("button", name="Unlock").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Why is Kaiser Clinics in West-Healthcare?")


def test_admin_routes_an_unassigned_account_from_the_queue(page: Page, live_server, routing_world, login, shot):
    login(routing_world.users["admin"])
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Routing").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Unassigned queue")
    queue = page.locator("#queue")
    expect(queue).to_contain_text("Bavaria Motors")
    shot("routing-queue")

    # Nothing selected: a clear error, nothing changes.
    page.get_by_role("button", name="Route selected").click()
    expect(queue.get_by_role("alert")).to_contain_text("Select at least one account to route.")
    expect(queue.get_by_text("Choose the territory")).to_be_visible()
    page.wait_for_timeout(150)
    shot("routing-queue-errors")

    page.get_by_label("Select Isar Health").check()
    expect(page.locator("#selected-count")).to_have_text("1")
    page.get_by_placeholder(re.compile("Territory")).fill("US-W")
    page.get_by_placeholder(re.compile("Reason")).fill("Partner referral for the West team")
    page.get_by_role("button", name="Route selected").click()
    expect(queue.get_by_role("status")).to_contain_text("Routed 1 account to US-W West.")
    expect(queue).not_to_contain_text("Isar Health")
    expect(page.locator('[data-kpi="unassigned"]')).to_have_text("2")
    page.wait_for_timeout(150)  # let htmx settle the swapped inputs' classes before the picture
    shot("routing-queue-routed")

    # Select all on the page, then filter by name (htmx swaps the table).
    page.get_by_label("Select all accounts on this page").check()
    expect(page.locator("#selected-count")).to_have_text("2")
    page.get_by_label("Name or domain").fill("nuremberg")
    expect(queue).not_to_contain_text("Bavaria Motors")
    expect(queue).to_contain_text("Nuremberg Tools")
    where = placement.placement(Account.objects.get(name="Isar Health"))
    assert where.territory is not None and where.territory.code == "US-W"

    page.get_by_role("link", name="Conflicts").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Conflicts")
    expect(page.get_by_role("table")).to_contain_text("Lone Star Energy")
    expect(page.get_by_role("table")).to_contain_text("TX-B")
    shot("routing-conflicts")
