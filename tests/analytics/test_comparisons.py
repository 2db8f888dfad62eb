"""Comparisons and coaching against the hand-computed fixture (tests/analytics/fixtures.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from analytics.selectors.comparisons import comparison
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from salesos.models import Account
from tests.analytics.fixtures import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    c = build()
    for key, potential in (("a1", 1000), ("a2", 2000), ("b1", 500), ("o1", 90_000)):
        Account.objects.filter(pk=c.accounts[key].pk).update(potential=potential)
    return c


def compare(company, role="admin", picked=(), level=None, type_=""):
    return comparison(scope=scope_for(company.users[role]), choice=period_choice(str(company.q3.pk)),
                      picked=list(picked), level=level, type_=type_)


def test_all_at_one_level_with_tam_and_coaching(company):
    c = compare(company, level=2)
    assert [f.node.code for f in c.rows] == ["A", "B"]
    assert c.tam == {company.t["A"].pk: Decimal(3000), company.t["B"].pk: Decimal(500)}
    # Medians of two peers: attainment 75, win rate 50, activity 1.5; deal size and cycle tie.
    assert [t.label for t in c.territories] == ["B Beta desk"]
    assert [flag.metric for flag in c.territories[0].flags] == [
        "Quota attainment", "Win rate", "Activities per account"]
    assert c.territories[0].flags[0].median == 75.0
    assert [r.label for r in c.reps] == ["An_rep_b Tester"]


def test_picked_territories_and_their_subtree_tam(company):
    c = compare(company, picked=[company.t["ROOT"].pk, company.t["OTHER"].pk])
    assert c.tam[company.t["ROOT"].pk] == Decimal(3500)
    assert [f.node.code for f in c.rows] == ["ROOT", "OTHER"]


@pytest.mark.parametrize("picked, message", [((1,), "Pick 2 to 8"), ((1, 2, 3, 4, 5, 6, 7, 8, 9), "Pick 2 to 8")])
def test_the_pick_must_hold_two_to_eight(company, picked, message):
    assert message in compare(company, picked=picked).error


def test_a_manager_cannot_pick_what_they_cannot_see(company):
    c = compare(company, "manager", picked=[company.t["A"].pk, company.t["OTHER"].pk])
    assert c.error == "Pick territories from the list." and c.rows == []


def test_type_filter(company):
    assert compare(company, level=2, type_="industry").rows == []
    assert "type" in compare(company, level=2, type_="bogus").error


@pytest.mark.parametrize("role", ["director", "manager", "rep"])
def test_page_and_export_show_only_their_part(client, company, role):
    client.force_login(company.users[role])
    body = client.get(reverse("analytics:compare"), {"period": company.q3.pk, "level": 1}).content.decode()
    assert "Other region" not in body and "90,000" not in body
    text = b"".join(client.get(reverse("analytics:export_compare"), {"period": company.q3.pk, "level": 1})
                    .streaming_content).decode()
    assert "OTHER" not in text


def test_page_shows_charts_and_coaching(client, company):
    client.force_login(company.users["admin"])
    body = client.get(reverse("analytics:compare"), {"period": company.q3.pk, "level": 2}).content.decode()
    for chart in ("chart-compare-bars", "chart-compare-spread", "chart-compare-tam"):
        assert f'data-chart="{chart}"' in body
    assert "Quota attainment: 50.0 vs median 75.0" in body
    bad = client.get(reverse("analytics:compare"), {"t": "x", "level": "y"})
    assert bad.status_code == 200 and "Pick" in bad.content.decode()
