"""The quota planning page: what each role may see and save, quotas that add up to the cent,
the ramp reduction, refusals that change nothing, and the CSV export."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from planning import fiscal
from planning.models import FiscalPeriod, Quota
from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role
LONG_AGO = dt.date(2024, 1, 1)


@pytest.fixture
def org():
    fy = factories.make_fiscal_year("FY2026")  # Feb 2026 .. Jan 2027
    plan = factories.make_plan(name="Quota plan", fiscal_year=fy)
    admin = factories.make_user(Role.ADMIN, username="q_admin")
    director = factories.make_user(Role.DIRECTOR, username="q_dir")
    other_dir = factories.make_user(Role.DIRECTOR, username="q_dir_b")
    manager = factories.make_user(Role.MANAGER, username="q_mgr", manager=director)
    veteran = factories.make_user(Role.REP, username="q_vet", manager=manager, experience="senior",
                                  hire_date=dt.date(2020, 1, 1))
    newbie = factories.make_user(Role.REP, username="q_new", manager=manager, hire_date=dt.date(2026, 5, 1),
                                 ramp_months=6)
    rep_b = factories.make_user(Role.REP, username="q_rep_b", manager=other_dir)
    region_a = factories.make_territory(plan, code="A", name="Region A")
    region_b = factories.make_territory(plan, code="B", name="Region B")
    a1 = factories.make_territory(plan, code="A-1", name="Leaf A1", parent=region_a)
    a2 = factories.make_territory(plan, code="A-2", name="Leaf A2", parent=region_a)
    b1 = factories.make_territory(plan, code="B-1", name="Leaf B1", parent=region_b)
    factories.make_territory(plan, code="OVL", name="Overlay", is_overlay=True)  # carries no quota
    factories.assign(region_a, director, start_date=LONG_AGO)
    factories.assign(region_b, other_dir, start_date=LONG_AGO)
    factories.assign(a1, veteran, start_date=LONG_AGO)
    factories.assign(a2, newbie, start_date=dt.date(2026, 5, 1))
    factories.assign(b1, rep_b, start_date=LONG_AGO)
    for territory, potentials in ((a1, [100, 200]), (a2, [300]), (b1, [400, 77777])):
        for p in potentials:
            factories.make_account(territory=territory, potential=Decimal(p))
    grants_rebuild()
    users = {"admin": admin, "director": director, "manager": manager, "rep": veteran}
    return fy, users, {"a1": a1, "a2": a2, "b1": b1}


def post(client, fy, **data):
    body = {"action": "save", "w_tam": 100, "w_attainment": 0, "w_density": 0, "w_pipeline": 0, "w_capacity": 0}
    body.update(data)
    return client.post(reverse("planning:quotas", args=[fy.pk]), body)


def test_admin_saves_quotas_that_add_up_with_the_ramp_on_the_new_hires_quarters(client, org):
    fy, users, t = org
    client.force_login(users["admin"])
    response = post(client, fy, target="1000000.01")
    assert response.status_code == 302
    quotas = Quota.objects.filter(period__fiscal_year=fy)
    assert quotas.count() == 3 * 4  # three leaves x four quarters; regions and the overlay carry none
    assert sum(q.amount for q in quotas) == Decimal("1000000.01")
    per = {code: sum(q.amount for q in quotas if q.territory.code == code) for code in ("A-1", "A-2", "B-1")}
    assert abs(per["A-1"] - per["A-2"]) <= Decimal("0.01")  # TAM 300 each: equal shares, to the odd cent
    assert per["B-1"] == pytest.approx(Decimal("1000000.01") * 78177 / 78777, abs=Decimal("0.01"))
    new_quarters = {q.period.name: q.ramp_factor for q in quotas if q.territory.code == "A-2"}
    assert new_quarters["Q1"] == 0  # hired after Q1's midpoint
    assert 0 < new_quarters["Q2"] < new_quarters["Q3"] < 1 and new_quarters["Q4"] == 1
    assert all(q.ramp_factor == 1 for q in quotas if q.territory.code == "A-1")
    assert {q.user.username for q in quotas if q.territory.code == "A-1"} == {"q_vet"}
    page = client.get(response["Location"]).content.decode()
    assert "adds up" in page and "1,000,000.01" in page and "ramping" in page


def test_director_plans_only_their_subtree_and_sees_nothing_of_the_other(client, org):
    fy, users, t = org
    client.force_login(users["director"])
    page = client.get(reverse("planning:quotas", args=[fy.pk])).content.decode()
    assert "Leaf A1" in page and "Leaf A2" in page
    assert "Leaf B1" not in page and "Region B" not in page and "77,777" not in page
    assert post(client, fy, target="5000").status_code == 302
    assert set(Quota.objects.values_list("territory__code", flat=True)) == {"A-1", "A-2"}
    assert sum(Quota.objects.values_list("amount", flat=True)) == Decimal(5000)
    # An override naming a territory outside the scope is not a field: it is ignored, not written.
    assert post(client, fy, target="5000", **{f"override-{t['b1'].pk}": "10"}).status_code == 302
    assert not Quota.objects.filter(territory=t["b1"]).exists()
    export = b"".join(client.get(reverse("planning:quotas_csv", args=[fy.pk])).streaming_content).decode()
    assert export.count("\n") == 1 + 8 and "Leaf B1" not in export


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_managers_and_reps_get_404_and_write_nothing(client, org, role):
    fy, users, _ = org
    client.force_login(users[role])
    assert client.get(reverse("planning:quotas", args=[fy.pk])).status_code == 404
    assert client.get(reverse("planning:quotas_csv", args=[fy.pk])).status_code == 404
    assert post(client, fy, target="5000").status_code == 404
    assert not Quota.objects.exists()


def test_overrides_re_spread_and_a_total_that_cannot_add_up_is_refused(client, org):
    fy, users, t = org
    client.force_login(users["admin"])
    assert post(client, fy, target="1000", **{f"override-{t['b1'].pk}": "400"}).status_code == 302
    b1 = sum(Quota.objects.filter(territory=t["b1"]).values_list("amount", flat=True))
    assert b1 == Decimal(400) and sum(Quota.objects.values_list("amount", flat=True)) == Decimal(1000)
    before = list(Quota.objects.order_by("pk").values_list("amount", flat=True))
    refused = post(client, fy, target="1000", **{f"override-{t['b1'].pk}": "600", f"override-{t['a1'].pk}": "600"})
    assert refused.status_code == 400
    assert "add up to 1,200.00, more than the target 1,000.00" in refused.content.decode()
    every = {f"override-{t[k].pk}": "100" for k in ("a1", "a2", "b1")}
    refused = post(client, fy, target="1000", **every)
    assert refused.status_code == 400 and "Every territory is overridden" in refused.content.decode()
    for bad in ({"target": "abc"}, {"target": "-5"}, {"target": "1.001"}, {"target": "10", "w_tam": "0"},
                {"target": "10", "w_tam": "-1"}):
        assert post(client, fy, **bad).status_code == 400
    assert list(Quota.objects.order_by("pk").values_list("amount", flat=True)) == before


def test_preview_shows_each_metric_beside_the_quota_and_saves_nothing(client, org):
    fy, users, _ = org
    client.force_login(users["admin"])
    response = post(client, fy, action="preview", target="78777", w_density=50)
    body = response.content.decode()
    assert response.status_code == 200 and "Quotas by territory" in body and "adds up" in body
    for heading in ("TAM", "Attain.", "Accounts", "Pipeline", "Capacity", "Share", "Coverage"):
        assert f">{heading}<" in body
    assert not Quota.objects.exists()


def test_each_quarter_is_split_over_its_months_to_the_cent_with_each_months_ramp(client, org):
    """With the year's twelve month periods, each saved quarter is split over its three months:
    the months add up to their quarter exactly, the quarters to the year, and a ramping holder's
    months ramp on their own middle (so a quarter's months ramp up inside it)."""
    fy, users, t = org
    made = [FiscalPeriod(fiscal_year=fy, kind=span.kind, name=span.name, start_date=span.start, end_date=span.end)
            for span in fiscal.year_periods(fy.start_date) if span.kind == FiscalPeriod.Kind.MONTH]
    FiscalPeriod.objects.bulk_create(made)
    client.force_login(users["admin"])
    assert post(client, fy, target="1000000.01").status_code == 302
    quotas = Quota.objects.filter(period__fiscal_year=fy).select_related("period", "territory")
    quarters = [q for q in quotas if q.period.kind == FiscalPeriod.Kind.QUARTER]
    months = [q for q in quotas if q.period.kind == FiscalPeriod.Kind.MONTH]
    assert len(quarters) == 12 and len(months) == 36
    assert sum(q.amount for q in quarters) == sum(q.amount for q in months) == Decimal("1000000.01")
    for quarter in quarters:
        inside = [m for m in months if m.territory_id == quarter.territory_id
                  and quarter.period.start_date <= m.period.start_date <= quarter.period.end_date]
        assert len(inside) == 3 and sum(m.amount for m in inside) == quarter.amount
        assert max(m.amount for m in inside) - min(m.amount for m in inside) <= Decimal("0.01")
        assert all(m.user_id == quarter.user_id for m in inside)
    newbie = sorted((m for m in months if m.territory == t["a2"]), key=lambda m: m.period.start_date)
    assert [m.ramp_factor for m in newbie[:3]] == [0, 0, 0]  # hired May 1st: nothing in Feb-Apr
    ramping = [m.ramp_factor for m in newbie[3:9]]
    assert ramping == sorted(ramping) and 0 < ramping[0] < ramping[-1] <= 1
    assert all(m.ramp_factor == 1 for m in months if m.territory == t["a1"])
    # The saved year's quota is still the quarters' total (the months are the same money again).
    csv = b"".join(client.get(reverse("planning:quotas_csv", args=[fy.pk])).streaming_content).decode()
    assert csv.count("\nA-1,") == 4 + 12


def test_months_that_do_not_cover_their_quarter_are_refused_and_nothing_is_saved(client, org):
    fy, users, _ = org
    first = fiscal.year_periods(fy.start_date)[4]  # the year's first month only
    FiscalPeriod.objects.create(fiscal_year=fy, kind=FiscalPeriod.Kind.MONTH, name=first.name,
                                start_date=first.start, end_date=first.end)
    client.force_login(users["admin"])
    response = post(client, fy, target="1000")
    assert "months do not cover it exactly" in response.content.decode()
    assert not Quota.objects.exists()
