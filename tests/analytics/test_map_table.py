"""The map's point table follows what changed: a new account is appended and a re-placed one is
read again, without reloading the whole table; a large change or a new plan version reloads it."""

from __future__ import annotations

import numpy as np
import pytest

from analytics import map_table
from analytics.map_table import point_table, point_table_clear
from routing.services import accounts_route_manually
from salesos.models import SalesProfile
from tests import factories


@pytest.fixture
def small(db):
    point_table_clear()
    plan = factories.make_plan(name="Table plan")
    west = factories.make_territory(plan, code="W", name="West")
    east = factories.make_territory(plan, code="E", name="East")
    admin = factories.make_user(SalesProfile.Role.ADMIN, username="table_admin")
    accounts = [factories.make_account(name=f"A{i}", territory=west, lat=10 + i, lon=20) for i in range(8)]
    yield plan, west, east, admin, accounts
    point_table_clear()


def territory_of(table, account_id: int) -> int:
    return int(table.territory[np.searchsorted(table.ids, account_id)])


def test_a_new_account_is_appended_without_a_reload(small):
    plan, west, _, _, _ = small
    first = point_table(plan)
    first.h3_cells(7)
    added = factories.make_account(name="New", territory=west, lat=-33.9, lon=151.2, country="AU", state="AU-NSW")
    table = point_table(plan)
    assert table is not first and table.loaded_at == first.loaded_at and table.refreshes == 1
    assert len(table) == 9 and table.ids[-1] == added.pk and territory_of(table, added.pk) == west.pk
    assert table.countries[table.country[-1]] == "AU" and table.states[table.state[-1]] == "AU-NSW"
    # The cached hexagons follow the rows.
    point_table_clear()
    assert np.array_equal(table.h3_cells(7), point_table(plan).h3_cells(7))


def test_a_re_placed_account_is_read_again_in_place(small):
    plan, west, east, admin, accounts = small
    point_table(plan)
    accounts_route_manually(account_ids=[accounts[3].pk], territory=east, by=admin, reason="Map test")
    table = point_table(plan)
    assert table.refreshes == 1 and len(table) == 8
    assert territory_of(table, accounts[3].pk) == east.pk
    assert [territory_of(table, a.pk) for a in accounts if a.pk != accounts[3].pk] == [west.pk] * 7
    assert list(table.ids) == sorted(table.ids)


def test_a_large_change_or_a_new_plan_version_reloads(small, monkeypatch):
    monkeypatch.setattr(map_table, "REFRESH_MIN", 0)
    plan, _, east, admin, accounts = small
    point_table(plan)
    accounts_route_manually(account_ids=[a.pk for a in accounts[:5]], territory=east, by=admin, reason="Most")
    table = point_table(plan)
    assert table.refreshes == 0  # 5 of 8 changed: a full load
    assert sum(territory_of(table, a.pk) == east.pk for a in accounts) == 5
    plan.version += 1
    plan.save(update_fields=["version"])
    assert point_table(plan).loaded_at > table.loaded_at


def test_nothing_changed_answers_the_same_table(small):
    plan = small[0]
    assert point_table(plan) is point_table(plan)
