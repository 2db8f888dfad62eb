"""Browser tests: Playwright driving the system Chromium against pytest-django's live server."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest

from salesos.models import Industry, SalesProfile
from territories.models import RepAssignment
from tests import factories

# Playwright's sync API runs an event loop in this thread; Django's ORM would refuse to run
# next to it without this.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path("/tmp/shots")
PASSWORD = "pw-Browser-123"
Role = SalesProfile.Role


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(f"Browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium); it is missing.")
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 900}}


@pytest.fixture
def shot(page):
    """Save a full-page screenshot to /tmp/shots/<name>.png (for looking at, never asserted)."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@dataclass
class World:
    admin: object
    director: object
    manager: object
    rep: object
    other_rep: object


@pytest.fixture
def world(transactional_db) -> World:
    """A small org and territory map with accounts and deals, users logging in with PASSWORD."""
    fy = factories.make_fiscal_year("FY2026")
    plan = factories.make_plan(name="FY26 Annual plan", fiscal_year=fy)
    factories.make_plan(
        name="FY27 Draft",
        status="draft",
        effective_date=dt.date(2027, 2, 1),
        description="Splits the West Coast; staged for review in Q4.",
    )

    def user(role, username, first, last, **kw):
        kw.setdefault("hire_date", dt.date(2022, 3, 1))
        u = factories.make_user(role, username=username, password=PASSWORD, **kw)
        u.first_name, u.last_name = first, last
        u.save(update_fields=["first_name", "last_name"])
        return u

    admin = user(Role.ADMIN, "ops", "Alex", "Admin", title="Sales operations")
    admin.is_staff = True
    admin.save(update_fields=["is_staff"])
    director = user(Role.DIRECTOR, "dir", "Dana", "Director", title="VP Sales, Americas")
    manager = user(Role.MANAGER, "mgr", "Morgan", "Manager", manager=director, title="West team lead")
    rep = user(Role.REP, "rep", "Riley", "Rep", manager=manager, title="Account executive")
    rep2 = user(Role.REP, "rep2", "Sam", "Seller", manager=manager, hire_date=dt.date.today())
    other_mgr = user(Role.MANAGER, "mgr2", "Olivia", "Okafor", manager=director, title="East team lead")
    other_rep = user(Role.REP, "rep3", "Taylor", "Tran", manager=other_mgr)
    factories.make_leave(rep2)

    amer = factories.make_territory(plan, code="AMER", name="Americas")
    west = factories.make_territory(plan, code="AMER-W", name="West Coast", parent=amer)
    ca = factories.make_territory(plan, code="AMER-W-CA", name="California", parent=west)
    pnw = factories.make_territory(plan, code="AMER-W-PNW", name="Pacific Northwest", parent=west)
    east = factories.make_territory(plan, code="AMER-E", name="East Coast", parent=amer)
    factories.make_territory(plan, code="AMER-C", name="Central", parent=amer)
    hc = factories.make_territory(
        plan, code="OVL-HC", name="Healthcare specialists", type="industry", is_overlay=True, credit_percent=50
    )
    factories.assign(amer, director)
    factories.assign(ca, rep)
    factories.assign(pnw, rep2)
    factories.assign(east, other_rep)
    factories.assign(hc, rep, slot=RepAssignment.Slot.OVERLAY, split_percent=50)
    factories.assign(pnw, rep, slot=RepAssignment.Slot.BACKUP)

    industries = [
        Industry.objects.create(scheme="naics", code=code, title=title)
        for code, title in (
            ("51", "Information"),
            ("311", "Food manufacturing"),
            ("62", "Health care"),
            ("5415", "Computer systems design"),
        )
    ]
    cities = [("San Francisco", "US-CA"), ("Los Angeles", "US-CA"), ("San Diego", "US-CA"), ("Oakland", "US-CA")]
    for i in range(12):
        city, state = cities[i % 4]
        account = factories.make_account(
            name=f"Golden {['Labs', 'Foods', 'Health', 'Systems'][i % 4]} {i + 1}",
            territory=ca,
            city=city,
            state=state,
            industry=industries[i % 4],
            employees=120 * (i + 1),
            annual_revenue=Decimal(4_500_000 * (i + 1)),
        )
        if i % 3 == 0:
            factories.make_opportunity(account, amount=Decimal(48_000 + 1_000 * i))
    for i in range(5):
        account = factories.make_account(name=f"Cascade Timber {i + 1}", territory=pnw, city="Seattle", state="US-WA")
        factories.make_opportunity(account, amount=Decimal(75_000))
    for i in range(6):
        account = factories.make_account(name=f"Atlantic Freight {i + 1}", territory=east, city="Boston", state="US-MA")
        factories.make_opportunity(account, amount=Decimal(120_500))
    for i in range(4):
        factories.make_account(
            name=f"Unrouted Prospect {i + 1}", region="EMEA", country="DE", state="DE-BY", city="Munich", territory=None
        )
    return World(admin=admin, director=director, manager=manager, rep=rep, other_rep=other_rep)


@pytest.fixture
def login(page, live_server):
    def do(user) -> None:
        page.goto(f"{live_server.url}/login/")
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live_server.url}/")

    return do
