"""Fixtures of the lead-routing API tests: fresh process caches, a token, a small plan."""

from __future__ import annotations

import pytest

from routing import api_input, services
from tests.factories import assign, make_plan, make_territory, make_user
from tests.routing.api.client import HEALTH, make_token


@pytest.fixture(autouse=True)
def _fresh_caches():
    # SQLite reuses primary keys after a rolled-back test, so a plan of an earlier test could
    # share a pk and version stamp with this one: start each test with empty process caches.
    services._indexes.clear()
    api_input.forget_known_countries()
    yield
    services._indexes.clear()
    api_input.forget_known_countries()



@pytest.fixture
def key():
    return make_token()[1]


@pytest.fixture
def plan():
    plan = make_plan()
    us = make_territory(plan, code="US", name="United States",
                        rule={"all": [{"field": "country", "op": "eq", "value": "US"}]})
    west = make_territory(plan, code="US-WEST", name="US West", parent=us,
                          rule={"all": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]}]})
    big = make_territory(plan, code="US-ENT", name="US Enterprise", type="hybrid", priority=5,
                         rule={"all": [{"field": "country", "op": "eq", "value": "US"},
                                       {"field": "employees", "op": "gte", "value": 5000}]})
    overlay = make_territory(plan, code="HC-OVERLAY", name="Healthcare specialists", rule=HEALTH,
                             is_overlay=True, credit_percent=40)
    wendy = make_user(username="wendy")
    assign(west, wendy)
    plan.t = {"us": us, "west": west, "ent": big, "overlay": overlay}
    plan.wendy = wendy
    return plan
