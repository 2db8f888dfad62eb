"""The capacity planner: load against ramp-scaled capacity, the flags, thresholds from the
settings, sorting, and what each role sees."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from planning import capacity
from planning.models import PlanningSettings
from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from territories.models import RepAssignment
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role
TODAY = dt.date.today()
LONG_AGO = dt.date(2020, 1, 1)


@pytest.fixture
def org():
    plan = factories.make_plan(name="Capacity plan")
    admin = factories.make_user(Role.ADMIN, username="c_admin")
    director = factories.make_user(Role.DIRECTOR, username="c_dir")
    other_dir = factories.make_user(Role.DIRECTOR, username="c_dir_b")
    manager = factories.make_user(Role.MANAGER, username="c_mgr", manager=director)
    busy = factories.make_user(Role.REP, username="c_busy", manager=manager, capacity_accounts=4,
                               capacity_pipeline=Decimal(100000), hire_date=LONG_AGO)
    new = factories.make_user(Role.REP, username="c_new", manager=manager, capacity_accounts=10,
                              hire_date=TODAY - dt.timedelta(days=45), ramp_months=3)
    away = factories.make_user(Role.REP, username="c_away", manager=other_dir, hire_date=LONG_AGO,
                               capacity_accounts=100)
    region_a = factories.make_territory(plan, code="A", name="Region A")
    region_b = factories.make_territory(plan, code="B", name="Region B")
    a1 = factories.make_territory(plan, code="A-1", name="Busy leaf", parent=region_a)
    a2 = factories.make_territory(plan, code="A-2", name="New leaf", parent=region_a)
    a3 = factories.make_territory(plan, code="A-3", name="Empty leaf", parent=region_a)
    b1 = factories.make_territory(plan, code="B-1", name="Leaf B1", parent=region_b)
    factories.assign(region_a, director, start_date=LONG_AGO)
    factories.assign(region_b, other_dir, start_date=LONG_AGO)
    factories.assign(a1, busy, start_date=LONG_AGO)
    factories.assign(a2, new, start_date=LONG_AGO)
    factories.assign(b1, away, start_date=LONG_AGO)
    factories.make_leave(away, start=TODAY - dt.timedelta(days=1), days=10)
    for _ in range(6):
        factories.make_account(territory=a1, potential=Decimal(1000))
    for _ in range(3):
        factories.make_account(territory=a2, potential=Decimal(500))
    factories.make_account(territory=a3, potential=Decimal(500))
    factories.make_account(territory=b1, potential=Decimal(77777))
    factories.make_account(territory=None)  # unassigned
    grants_rebuild()
    return plan, {"admin": admin, "director": director, "manager": manager, "rep": busy}, {"a1": a1, "b1": b1}


def by_code(report):
    return {r.territory.code: r for r in report.territories}


def test_loads_and_flags(org):
    plan, users, _ = org
    report = capacity.capacity_report(user=users["admin"], plan=plan)
    rows = by_code(report)
    assert set(rows) == {"A-1", "A-2", "A-3", "B-1"}  # regions hold no accounts of their own
    assert rows["A-1"].load.percent == pytest.approx(150.0) and rows["A-1"].flags == ["overloaded"]
    new = rows["A-2"]
    assert 0 < new.load.ramp < 1 and "ramping" in new.flags
    assert new.load.capacity_accounts == pytest.approx(10 * new.load.ramp)  # capacity scaled by ramp
    assert rows["A-3"].flags == ["vacant"] and rows["A-3"].load.percent is None
    assert "leave_no_backup" in rows["B-1"].flags and "room" in rows["B-1"].flags
    assert report.accounts_in_vacant == 1 and report.unassigned_accounts == 1 and report.accounts_without_owner == 2
    assert [r.territory.code for r in report.territories][0] == "A-1"  # heaviest first
    assert rows["A-1"].tam_index == pytest.approx(6000 / ((6000 + 1500 + 500 + 77777) / 4) * 100)


def test_a_backup_in_force_clears_the_leave_flag_and_thresholds_come_from_settings(org):
    plan, users, t = org
    factories.assign(t["b1"], users["rep"], slot=RepAssignment.Slot.BACKUP, start_date=LONG_AGO)
    PlanningSettings.objects.create(pk=1, overload_percent=200, light_percent=0)
    rows = by_code(capacity.capacity_report(user=users["admin"], plan=plan))
    assert "leave_no_backup" not in rows["B-1"].flags
    assert rows["A-1"].flags == [] and "room" not in rows["B-1"].flags


def test_rep_rows_add_up_their_territories(org):
    plan, users, _ = org
    report = capacity.capacity_report(user=users["admin"], plan=plan)
    reps = {r.name.split()[0]: r for r in report.reps}
    assert reps["C_busy"].load.accounts == 6 and reps["C_busy"].flags == ["overloaded"]


def test_pages_by_role(client, org):
    _, users, _ = org
    for role in ("manager", "rep"):
        client.force_login(users[role])
        assert client.get(reverse("planning:capacity")).status_code == 404
    client.force_login(users["director"])
    body = client.get(reverse("planning:capacity")).content.decode()
    assert "Busy leaf" in body and "Leaf B1" not in body and "77,777" not in body
    client.force_login(users["admin"])
    body = client.get(reverse("planning:capacity"), {"sort": "code"}).content.decode()
    assert body.index("A-1") < body.index("A-2") < body.index("B-1") and 'data-chart="chart-capacity-load"' in body
    assert client.get(reverse("planning:capacity"), {"sort": "drop table"}).status_code == 200
