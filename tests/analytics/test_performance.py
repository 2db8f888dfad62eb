"""Performance figures against the hand-computed fixture (tests/analytics/fixtures.py), their
roll-up through the tree, role scoping, and bounded query counts."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.selectors.performance import performance_page, rolled_up
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from tests.analytics.fixtures import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    return build()


def figures(company, role="admin"):
    scope = scope_for(company.users[role])
    by_pk = rolled_up(scope=scope, choice=period_choice(str(company.q3.pk)))
    return {f.node.code: f for f in by_pk.values()}


def test_each_metric_matches_the_hand_computed_fixture(company):
    f = figures(company)
    a, b = f["A"], f["B"]
    assert (a.won_amount, a.quota, a.attainment) == (Decimal(400), Decimal("400.00"), 100.0)
    assert a.win_rate == pytest.approx(200 / 3)
    assert (a.avg_deal, a.cycle) == (Decimal("200.00"), 20.0)
    assert a.velocity == Decimal("13.33")
    assert (a.accounts, a.calls, a.emails, a.meetings, a.activity_density) == (2, 3, 1, 0, 2.0)
    assert (b.attainment, b.velocity, b.activity_density) == (50.0, Decimal("0.0"), 1.0)
    assert b.win_rate == pytest.approx(100 / 3)


def test_a_territory_rolls_up_its_subtree(company):
    root = figures(company)["ROOT"]
    assert (root.won_amount, root.quota, root.attainment) == (Decimal(600), Decimal("800.00"), 75.0)
    assert (root.won_n, root.lost_n, root.win_rate) == (3, 3, 50.0)
    assert (root.avg_deal, root.cycle, root.velocity) == (Decimal("200.00"), 20.0, Decimal("10.0"))
    assert root.activity_density == pytest.approx(5 / 3)
    assert figures(company)["OTHER"].won_amount == Decimal(55_555)


def test_another_period_counts_other_deals(company):
    scope = scope_for(company.users["admin"])
    a = {f.node.code: f for f in rolled_up(scope=scope, choice=period_choice(str(company.q4.pk))).values()}["A"]
    assert (a.won_amount, a.quota, a.attainment, a.calls) == (Decimal(999), Decimal(0), None, 1)


@pytest.mark.parametrize("role, codes", [
    ("admin", {"ROOT", "A", "B", "OTHER"}),
    ("director", {"ROOT", "A", "B"}),
    ("manager", {"A"}),
    ("rep", {"A"}),
])
def test_each_role_gets_the_figures_of_its_part(company, role, codes):
    assert set(figures(company, role)) == codes


def test_a_leaders_totals_leave_out_what_they_cannot_see(company):
    # The manager sees A only: nothing of B reaches an A-level total, and the page starts at A.
    page = performance_page(scope=scope_for(company.users["manager"]), choice=period_choice(str(company.q3.pk)),
                            territory_id=None)
    assert [f.node.code for f in page.rows] == ["A"]


def body(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("analytics:performance"), params)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_walks_down_and_up_the_tree(client, company):
    top = body(client, company.users["director"], period=company.q3.pk)
    assert 'data-territory="ROOT"' in top and 'data-territory="A"' not in top
    down = body(client, company.users["director"], period=company.q3.pk, territory=company.t["ROOT"].pk)
    assert 'data-territory="A"' in down and 'data-territory="B"' in down
    assert 'data-kpi="attainment">75.0%<' in down
    leaf = body(client, company.users["director"], period=company.q3.pk, territory=company.t["A"].pk)
    assert 'data-kpi="attainment">100.0%<' in leaf and f"territory={company.t['ROOT'].pk}" in leaf
    assert "How each figure is computed" in leaf


@pytest.mark.parametrize("role", ["director", "manager", "rep"])
def test_no_role_sees_another_part_by_id(client, company, role):
    page = body(client, company.users[role], period=company.q3.pk, territory=company.t["OTHER"].pk)
    assert "Other region" not in page and "55,555" not in page
    assert "not one you can see" in page


def test_bad_input_is_reported_not_fatal(client, company):
    page = body(client, company.users["admin"], period="nope", territory="x")
    assert "Pick a territory from the list." in page


def test_the_csv_has_the_same_figures(client, company):
    client.force_login(company.users["director"])
    response = client.get(reverse("analytics:export_performance"),
                          {"period": company.q3.pk, "territory": company.t["ROOT"].pk})
    text = b"".join(response.streaming_content).decode()
    lines = text.strip().splitlines()
    assert lines[0].startswith("territory_code,territory_name")
    root = next(line for line in lines if line.startswith("ROOT,"))
    assert ",800.00,600" in root and ",75.00," in root
    assert "OTHER" not in text and "55555" not in text


def test_the_csv_guards_text_a_spreadsheet_would_run(client, company):
    """A territory name that starts a formula reaches the export as text (``salesos.csv_export``)."""
    company.t["A"].name = '=HYPERLINK("http://x.example","y")'
    company.t["A"].save(update_fields=["name"])
    client.force_login(company.users["admin"])
    response = client.get(reverse("analytics:export_performance"),
                          {"period": company.q3.pk, "territory": company.t["ROOT"].pk})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    names = {row[0]: row[1] for row in rows[1:]}
    assert names["A"] == '\'=HYPERLINK("http://x.example","y")'
    assert not any(cell.startswith("=") for row in rows for cell in row)


@pytest.mark.parametrize("extra", [0, 30])
def test_query_count_does_not_grow_with_the_tree(client, company, extra, django_assert_max_num_queries):
    from tests import factories

    for i in range(extra):
        t = factories.make_territory(company.plan, code=f"X{i}", name=f"Extra {i}", parent=company.t["B"])
        factories.make_opportunity(factories.make_account(territory=t), amount=10)
    client.force_login(company.users["admin"])
    with django_assert_max_num_queries(16):
        response = client.get(reverse("analytics:performance"),
                              {"period": company.q3.pk, "territory": company.t["ROOT"].pk})
    assert response.status_code == 200


@pytest.mark.parametrize("name", ["analytics:performance", "analytics:forecast"])
def test_a_wide_level_is_paged(client, company, name):
    from tests import factories

    for i in range(30):
        factories.make_territory(company.plan, code=f"W{i:02d}", name=f"Wide {i}", parent=company.t["B"])
    client.force_login(company.users["admin"])
    params = {"period": company.q3.pk, "territory": company.t["B"].pk}
    first = client.get(reverse(name), params).content.decode()
    assert first.count('data-territory="W') == 25 and 'data-territory="W24"' in first
    assert "Page 1 of 2" in first and f"territory={company.t['B'].pk}&amp;page=2" in first
    second = client.get(reverse(name), {**params, "page": 2}).content.decode()
    assert second.count('data-territory="W') == 5 and 'data-territory="W29"' in second
    for bad, expected in (("x", "Page 1 of 2"), ("99", "Page 2 of 2")):
        response = client.get(reverse(name), {**params, "page": bad})
        assert response.status_code == 200 and expected in response.content.decode()
