"""Forecast roll-up and compensation crediting against hand-computed figures, scoped by role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.selectors.credit import credit_page
from analytics.selectors.forecast import forecast_page
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from tests import factories
from tests.analytics.fixtures import build_with_credit

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def company():
    return build_with_credit()


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
