"""Quota attainment as a heat-map metric: the performance page's figure for the period, drawn over
the territories' shapes, in fixed bands, with "no quota" apart; and the account metrics summed per
territory with its subtree."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from django.utils import timezone

from analytics.selectors.performance import rolled_up
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from planning.models import FiscalPeriod, Quota
from salesos.models import Account, Opportunity
from tests import factories
from tests.analytics import test_map

geo = test_map.geo
fresh_caches = test_map.fresh_caches


def heat(client, user, query: str) -> dict:
    client.force_login(user)
    response = client.get(f"/map/heat.json?{query}")
    assert response.status_code == 200, response.content
    return json.loads(response.content)


def by_code(body: dict) -> dict:
    return {f["properties"]["code"]: f["properties"] for f in body["features"]}


def quotas_and_wins(geo) -> FiscalPeriod:
    year = factories.make_fiscal_year("FY2026", start=(timezone.localdate() - dt.timedelta(days=200)).replace(day=1))
    period = year.periods.get(start_date__lte=timezone.localdate(), end_date__gte=timezone.localdate())
    Quota.objects.create(territory=geo.west, period=period, amount=Decimal(10_000))
    Quota.objects.create(territory=geo.east, period=period, amount=Decimal(20_000))
    won = {"status": Opportunity.Status.WON, "stage": Opportunity.Stage.CLOSED_WON}
    factories.make_opportunity(Account.objects.get(name="Alpha 0"), amount=12_500, close_date=timezone.localdate(),
                               territory=geo.west, **won)
    factories.make_opportunity(Account.objects.get(name="Beta 0"), amount=5_000, close_date=timezone.localdate(),
                               territory=geo.east, **won)
    return period


def test_attainment_is_the_performance_figure_drawn_over_territories(geo, client):
    period = quotas_and_wins(geo)
    body = heat(client, geo.admin, "metric=attainment&area=state&level=all")  # attainment is always per territory
    found = by_code(body)
    assert found["W"]["value"] == 125.0 and found["W"]["class"] == 4  # over 120 %
    assert found["E"]["value"] == 25.0 and found["E"]["class"] == 0  # under 50 %
    assert found["E-Z"]["value"] is None and found["E-Z"]["class"] == -1  # no quota in the period
    assert body["legend"]["level"] == "territory" and body["legend"]["breaks"] == [50.0, 80.0, 100.0, 120.0]
    assert body["legend"]["period"] == f"{period.name} FY2026"
    # One definition: the performance page's figure.
    figures = rolled_up(scope=scope_for(geo.admin), choice=period_choice(str(period.pk)))
    assert found["W"]["value"] == round(figures[geo.west.pk].attainment, 1)


def test_attainment_of_another_period_and_a_bad_period(geo, client):
    period = quotas_and_wins(geo)
    earlier = FiscalPeriod.objects.filter(end_date__lt=period.start_date).order_by("-start_date").first()
    assert earlier is not None
    assert all(p["value"] is None for p in by_code(heat(client, geo.admin, f"metric=attainment&period={earlier.pk}"))
               .values())  # no quota then
    client.force_login(geo.admin)
    response = client.get("/map/heat.json?metric=attainment&period=abc")
    assert response.status_code == 400 and "period" in json.loads(response.content)["fields"]


def test_a_rep_sees_the_attainment_of_their_territory_only(geo, client):
    quotas_and_wins(geo)
    assert set(by_code(heat(client, geo.rep, "metric=attainment"))) == {"W"}
    assert "East side" not in heat(client, geo.rep, "metric=attainment&area=territory").__repr__()


def test_account_metrics_sum_per_territory_with_its_subtree(geo, client):
    zip_account = factories.make_account(name="Beta town co", territory=geo.zip_t, state="US-BB", lat=12, lon=14.8,
                                         potential=Decimal(40))
    assert zip_account.pk
    found = by_code(heat(client, geo.admin, "metric=accounts&area=territory&level=all"))
    assert found["W"]["value"] == 6 and found["E-Z"]["value"] == 1
    assert found["E"]["value"] == 4  # its three and the ZIP territory's one
    potential = by_code(heat(client, geo.admin, "metric=potential&area=territory&level=all"))
    assert potential["W"]["value"] == 60 and potential["E"]["value"] == 40
