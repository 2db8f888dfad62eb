"""The demo company that `make run` seeds: each documented demo login works through the real
login form and lands on its role's home page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from planning.demo import seed_demo

pytestmark = pytest.mark.browser

HOMES = {
    "admin": "Coverage overview",
    "director": "My organisation",
    "manager": "My team",
    "rep": "My territory",
}


@pytest.fixture
def demo(transactional_db):
    seed_demo(accounts=600, seed=7, anchor=dt.date.today())


@pytest.mark.parametrize("username", list(HOMES))
def test_each_demo_login_sees_its_home(page: Page, live_server, demo, username, shot):
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(settings.SALESOS_DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(HOMES[username])
    if username == "rep":
        # The demo rep owns a territory with accounts: the table is not empty.
        expect(page.locator("#rep-accounts tbody tr").first).to_be_visible()
    shot(f"demo-login-{username}")
