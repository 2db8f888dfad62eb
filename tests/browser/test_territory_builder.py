"""An admin builds a hybrid territory with a nested group in the rule builder, watches the live
match count move as rows are added, saves and activates it, and a new matching account is routed
to it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from routing.services import account_save
from salesos.models import Account, Industry
from territories.models import Territory
from territories.placement import placement

pytestmark = pytest.mark.browser


def count(page: Page) -> int:
    return int(page.locator("#match-count").get_attribute("data-count"))


def wait_count(page: Page, value: int) -> None:
    expect(page.locator("#match-count")).to_have_attribute("data-count", str(value), timeout=8000)


def choose_picker_field(row, field: str, label: str) -> None:
    """Selects a field whose value is a picker and waits for the server to swap the row's value
    widget in (the previous field's picker is still there until then)."""
    row.get_by_label("Field").select_option(field)
    expect(row.locator(".rb-search")).to_have_attribute("placeholder", re.compile(label, re.IGNORECASE))


def add_chip(page: Page, row, text: str) -> None:
    search = row.locator(".rb-search")
    search.fill(text)
    search.press("Enter")
    expect(row.locator(".rb-chip", has_text=text)).to_have_count(1)


def test_admin_builds_hybrid_territory_and_a_new_account_routes_to_it(page: Page, live_server, world, login, shot):
    login(world.admin)
    page.goto(f"{live_server.url}/territories/new/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create territory")
    wait_count(page, 27)  # an empty rule covers every account
    page.get_by_label("Name", exact=True).fill("Mountain & West Health")
    page.locator("label[for=type-hybrid]").click()

    # Row 1: industry is one of 62 (the picker turns the code into a chip).
    rows = page.locator(".rb-root > .rb-fieldset > .rb-children > .rb-cond")
    first = rows.nth(0)
    choose_picker_field(first, "industry", "industry")
    add_chip(page, first, "62")
    wait_count(page, 3)

    # Row 2: employees at least 500; the new row takes the focus.
    page.locator(".rb-root > .rb-fieldset > .rb-actions .rb-add-cond").click()
    expect(rows).to_have_count(2)
    second = rows.nth(1)
    expect(second.get_by_label("Field")).to_be_focused()
    second.get_by_label("Field").select_option("employees")
    expect(second.get_by_label("Operator")).to_have_value("gte")
    expect(second.get_by_text("employees", exact=True)).to_be_visible()  # the unit
    second.get_by_label("Value").fill("500")
    wait_count(page, 2)

    # A nested OR group: state in CA/OR, or metro Denver.
    page.locator(".rb-root > .rb-fieldset > .rb-actions .rb-add-group").click()
    group = page.locator(".rb-root .rb-group").first
    expect(group.get_by_label("Group: match when")).to_be_focused()
    expect(group.get_by_label("Group: match when")).to_have_value("any")
    state_row = group.locator(".rb-cond").first
    choose_picker_field(state_row, "state", "state")
    add_chip(page, state_row, "US-CA")
    add_chip(page, state_row, "US-OR")
    group.locator(".rb-add-cond").click()
    metro_row = group.locator(".rb-cond").nth(1)
    expect(metro_row.get_by_label("Field")).to_be_focused()
    choose_picker_field(metro_row, "metro", "metro")
    add_chip(page, metro_row, "Denver")
    wait_count(page, 2)
    expect(page.locator(".rb-text")).to_contain_text(
        "Health care accounts with 500+ employees in CA or OR, or in Denver")
    expect(page.locator(".rb-sample tbody tr")).to_have_count(2)
    shot("builder-hybrid")

    # A bad row shows its message beside it, and removing it clears the problem.
    page.locator(".rb-root > .rb-fieldset > .rb-actions .rb-add-cond").click()
    bad = rows.nth(2)
    expect(bad.get_by_label("Field")).to_be_focused()  # swapped in and wired up by htmx
    bad.get_by_label("Field").select_option("annual_revenue")
    bad.get_by_label("Value").fill("lots")
    expect(page.locator("#rb-preview")).to_contain_text("1 problem", timeout=8000)
    page.get_by_role("button", name="Save and activate").click()
    expect(page.locator(".rb-cond.has-error .rb-error")).to_contain_text("Annual revenue needs an amount")
    shot("builder-error")
    page.locator(".rb-cond.has-error .rb-remove").click()
    wait_count(page, 2)

    page.get_by_role("button", name="Save and activate").click()
    page.wait_for_url(re.compile(r"/territories/\d+/"))
    territory = Territory.objects.get(name="Mountain & West Health")
    assert territory.status == "active" and territory.type == "hybrid"
    assert territory.rule == {"all": [
        {"field": "industry", "op": "in", "value": ["62"]},
        {"field": "employees", "op": "gte", "value": 500},
        {"any": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]},
                 {"field": "metro", "op": "in", "value": ["Denver"]}]},
    ]}

    account = account_save(account=Account(
        name="Rocky Mountain Clinics", country="US", region="AMER", state="US-CO", city="Denver", metro="Denver",
        industry=Industry.objects.get(code="62"), employees=900,
    ))
    assert placement(account).territory == territory

    page.goto(f"{live_server.url}/territories/{territory.pk}/edit/")
    expect(page.locator(".rb-chip", has_text="Denver")).to_have_count(1)
    wait_count(page, 3)  # the new account matches too
    shot("builder-edit")


def test_two_hundred_postal_codes_fit_one_row(page: Page, live_server, world, login, shot):
    login(world.admin)
    page.goto(f"{live_server.url}/territories/new/")
    row = page.locator(".rb-cond").first
    row.get_by_label("Field").select_option("postal_code")
    codes = " ".join(str(94000 + i) for i in range(200)) + "\n94105, 94105"
    row.get_by_label("Value").fill(codes)
    expect(row.locator("[data-count]")).to_have_text("200")
    wait_count(page, 27)  # the default accounts all sit in 94105
    expect(page.locator(".rb-cond")).to_have_count(1)
    shot("builder-postal")


def test_a_catch_all_is_activated_only_after_confirming_what_it_takes(page: Page, live_server, world, login, shot):
    login(world.admin)
    page.goto(f"{live_server.url}/territories/new/")
    page.get_by_label("Name", exact=True).fill("Everything else")
    expect(page.locator("#catch-all")).to_contain_text("No conditions: this territory takes every account",
                                                       timeout=8000)
    page.get_by_role("button", name="Save and activate").click()
    confirm = page.locator("#catch-all-confirm")
    expect(confirm).to_contain_text("Once active it takes")
    assert not Territory.objects.filter(name="Everything else").exists()
    shot("builder-catch-all")
    confirm.get_by_label("Yes, let this territory take them").check()
    page.get_by_role("button", name="Save and activate").click()
    page.wait_for_url(re.compile(r"/territories/\d+/"))
    assert Territory.objects.get(name="Everything else").status == "active"
