"""Forecast roll-up and compensation crediting against hand-computed figures, scoped by role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.credit import credit_page
from analytics.selectors.forecast import forecast_page
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from territories.grants import grants_rebuild
from territories.models import AccountTerritory, RepAssignment
from tests import factories
from tests.analytics.fixtures import build

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def company():
    c = build()
    a1, a2, b1 = c.accounts["a1"], c.accounts["a2"], c.accounts["b1"]
    # Forecast: on top of the fixture's two open Prospecting deals of 50 in A (due Oct 20).
    factories.make_opportunity(a1, amount=1000, stage="negotiation", probability=80, created_date=D(2026, 8, 1),
                               close_date=D(2026, 10, 1))
    factories.make_opportunity(b1, amount=400, stage="proposal", probability=50, created_date=D(2026, 8, 1),
                               close_date=D(2026, 10, 1))
    factories.make_opportunity(b1, amount=7000, stage="negotiation", probability=90, created_date=D(2026, 8, 1),
                               close_date=D(2026, 12, 1))  # Q4: out
    # Credit: A changes hands on Aug 20 (inclusive end): rep_a keeps the Aug 11 deal, rep_c gets Aug 31.
    RepAssignment.objects.filter(territory=c.t["A"], user=c.users["rep"]).update(end_date=D(2026, 8, 20))
    rep_c = factories.make_user("rep", username="an_rep_c", manager=c.users["manager"])
    factories.assign(c.t["A"], rep_c, start_date=D(2026, 8, 21))
    # An overlay (50% credit) split 60/40 between two specialists, holding a2 all year and a1 until Aug 1.
    ov = factories.make_territory(c.plan, code="OV", name="Overlay specialists", is_overlay=True, credit_percent=50)
    ov1 = factories.make_user("rep", username="an_ov1")
    ov2 = factories.make_user("rep", username="an_ov2")
    factories.assign(ov, ov1, slot="overlay", split_percent=60, start_date=D(2026, 1, 1))
    factories.assign(ov, ov2, slot="overlay", split_percent=40, start_date=D(2026, 1, 1))
    jan = timezone.make_aware(dt.datetime(2026, 1, 1))
    AccountTerritory.objects.create(account=a2, territory=ov, plan=c.plan, is_primary=False, credit_percent=50,
                                    valid_from=jan)
    AccountTerritory.objects.create(account=a1, territory=ov, plan=c.plan, is_primary=False, credit_percent=50,
                                    valid_from=jan, valid_to=timezone.make_aware(dt.datetime(2026, 8, 1)))
    grants_rebuild()
    c.users.update(rep_c=rep_c, ov1=ov1, ov2=ov2)
    return c


def forecast(company, role="admin", territory=None):
    page = forecast_page(scope=scope_for(company.users[role]), choice=period_choice(str(company.q3.pk)),
                         territory_id=territory)
    return page


def test_forecast_buckets_and_roll_up(company):
    page = forecast(company, territory=company.t["ROOT"].pk)
    root = page.focus
    # won 600; commit 1000 (A negotiation); best case 1000 + 400; pipeline 1000 + 400 + 50 + 50
    assert (root.won, root.commit, root.best_case, root.pipeline) == (600, 1000, 1400, 1500)
    # weighted: 1000 x .8 + 400 x .5 + 2 x 50 x .1 = 800 + 200 + 10
    assert root.weighted == Decimal("1010.00")
    rows = {f.node.code: f for f in page.rows}
    assert (rows["A"].commit, rows["A"].pipeline, rows["B"].best_case) == (1000, 1100, 400)


def test_forecast_is_scoped(company):
    page = forecast(company, "manager")
    assert [f.node.code for f in page.rows] == ["A"] and page.total.pipeline == 1100


def lines(company, role="admin"):
    page = credit_page(scope=scope_for(company.users[role]), choice=period_choice(str(company.q3.pk)))
    return {(line.name.split()[0], line.territory_code, line.slot): line.credit for line in page.lines}


def test_credit_follows_the_holder_on_the_close_date_and_the_overlay_splits(company):
    got = lines(company)
    assert got[("An_rep_a", "A", "Primary owner")] == Decimal("100.00")  # Aug 11: before the handover
    assert got[("An_rep_c", "A", "Primary owner")] == Decimal("300.00")  # Aug 31: after it
    assert got[("An_rep_b", "B", "Primary owner")] == Decimal("200.00")
    # a2's 300 through the overlay: 300 x 50% x 60% and x 40%; a1's overlay row ended before Aug 11.
    assert got[("An_ov1", "OV", "Overlay")] == Decimal("90.00")
    assert got[("An_ov2", "OV", "Overlay")] == Decimal("60.00")
    assert got[("An_other_dir", "OTHER", "Primary owner")] == Decimal("55555.00")


def test_credit_lines_are_scoped(company):
    assert set(lines(company, "manager")) == {("An_rep_a", "A", "Primary owner"), ("An_rep_c", "A", "Primary owner")}
    assert set(lines(company, "ov1")) == {("An_ov1", "OV", "Overlay"), ("An_ov2", "OV", "Overlay")}


@pytest.mark.parametrize("name", ["analytics:forecast", "analytics:credit"])
@pytest.mark.parametrize("role", ["director", "manager", "rep"])
def test_pages_and_exports_show_no_other_part(client, company, name, role):
    client.force_login(company.users[role])
    page = client.get(reverse(name), {"period": company.q3.pk, "territory": company.t["OTHER"].pk})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Other region" not in body and "55,555" not in body and "An_other_dir" not in body
    export = client.get(reverse(name.replace(":", ":export_")), {"period": company.q3.pk})
    text = b"".join(export.streaming_content).decode()
    assert "OTHER" not in text and "55555" not in text


def test_credit_page_and_csv_show_the_lines(client, company):
    client.force_login(company.users["admin"])
    body = client.get(reverse("analytics:credit"), {"period": company.q3.pk}).content.decode()
    assert 'data-credit="OV-Overlay">$90.00<' in body and 'data-chart="chart-credit"' in body
    text = b"".join(client.get(reverse("analytics:export_credit"), {"period": company.q3.pk}).streaming_content)
    assert b"An_ov2 Tester,OV,Overlay specialists,Overlay,FY2026 Q3,1,300.00,60.00" in text


@pytest.mark.parametrize("extra", [0, 25])
def test_query_counts_do_not_grow(client, company, extra, django_assert_max_num_queries):
    for i in range(extra):
        t = factories.make_territory(company.plan, code=f"Y{i}", name=f"Extra {i}", parent=company.t["B"])
        account = factories.make_account(territory=t)
        factories.make_opportunity(account, amount=10, status="won", stage="closed_won", created_date=D(2026, 8, 1),
                                   close_date=D(2026, 9, 1))
    client.force_login(company.users["admin"])
    for name in ("analytics:forecast", "analytics:credit"):
        with django_assert_max_num_queries(14):
            assert client.get(reverse(name), {"period": company.q3.pk}).status_code == 200
