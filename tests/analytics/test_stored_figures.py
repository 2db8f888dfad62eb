"""Stored dashboard figures (analytics.figures): what the pages read from the store equals the
live computation for every role's part of the tree, the pages fall back to live figures while
the store cannot answer, and each refresh trigger asks for a build."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import tasks
from analytics.figures import coverage_build, figures_build
from analytics.models import CoverageFigures, FiguresBuild, TerritoryFigures
from analytics.selectors.comparisons import comparison, tam_own
from analytics.selectors.coverage import coverage_summary
from analytics.selectors.credit import credit_page
from analytics.selectors.forecast import KEYS, forecast_own, forecast_page
from analytics.selectors.performance import SUMS, performance_page, rolled_up, rolled_up_stored
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from territories import hooks
from tests import factories
from tests.analytics.fixtures import WON, D, build_with_credit

pytestmark = pytest.mark.django_db
ROLES = ["admin", "director", "manager", "rep", "rep_b", "rep_c", "ov1", "other_dir"]


@pytest.fixture
def company():
    return build_with_credit()


def built(company, period) -> FiguresBuild:
    FiguresBuild.objects.get_or_create(plan=company.plan, period=period)
    assert figures_build(plan_id=company.plan.pk, period_id=period.pk) == company.plan.territories.count()
    return FiguresBuild.objects.get(plan=company.plan, period=period)


def sums(figures) -> dict:
    return {key: getattr(figures, key) for key in SUMS}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("quarter", ["q3", "q4"])
def test_stored_figures_equal_the_live_ones_for_every_role(company, role, quarter):
    period = getattr(company, quarter)
    choice = period_choice(str(period.pk))
    scope = scope_for(company.users[role])
    live = rolled_up(scope=scope, choice=choice)
    live_forecast = forecast_page(scope=scope, choice=choice, territory_id=None)  # no build yet: live
    assert not live_forecast.freshness.stored
    built(company, period)
    stored, freshness = rolled_up_stored(scope=scope, choice=choice)
    # A user who holds nothing (rep_a's slot ended in Q3) has nothing to read from the store.
    assert freshness.stored == bool(scope.nodes) and not freshness.refreshing
    assert set(stored) == set(live) == set(scope.nodes)
    for pk in scope.nodes:
        assert sums(stored[pk]) == sums(live[pk]), scope.nodes[pk].code
        assert stored[pk].attainment == live[pk].attainment and stored[pk].velocity == live[pk].velocity
    for pk in [None, *scope.nodes]:
        from_store = forecast_page(scope=scope, choice=choice, territory_id=pk)
        assert from_store.freshness.stored == bool(scope.nodes)
        again_live = forecast_page(scope=scope, choice=choice, territory_id=pk)
        assert [asdict(r) for r in from_store.rows] == [asdict(r) for r in again_live.rows]
    own_live = forecast_own(scope=scope, choice=choice)
    totals = scope.rollup(own_live)
    for f in forecast_page(scope=scope, choice=choice, territory_id=None).rows:
        assert {k: getattr(f, k) for k in KEYS if k != "weighted"} == {
            k: totals.get(f.node.pk, {}).get(k, 0) for k in KEYS if k != "weighted"
        }
    for level in sorted({scope.depth(pk) for pk in scope.nodes}):
        from_store = comparison(scope=scope, choice=choice, picked=[], level=level, type_="")
        assert from_store.freshness.stored
        live_tam = scope.rollup(tam_own(scope=scope))
        assert from_store.tam == {pk: live_tam.get(pk, {}).get("tam", 0) for pk in from_store.tam}
        assert [sums(f) for f in from_store.rows] == [sums(live[f.node.pk]) for f in from_store.rows]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("quarter", ["q3", "q4"])
def test_stored_credit_lines_equal_the_live_ones_for_every_role(company, role, quarter):
    period = getattr(company, quarter)
    choice = period_choice(str(period.pk))
    scope = scope_for(company.users[role])
    live = credit_page(scope=scope, choice=choice)
    assert not live.freshness.stored
    built(company, period)
    stored = credit_page(scope=scope, choice=choice)
    assert stored.freshness.stored == bool(scope.nodes)
    assert [asdict(line) for line in stored.lines] == [asdict(line) for line in live.lines]
    assert stored.by_rep == live.by_rep and stored.total == live.total


def test_the_hand_computed_root_comes_out_of_the_store(company):
    built(company, company.q3)
    page = performance_page(
        scope=scope_for(company.users["director"]),
        choice=period_choice(str(company.q3.pk)),
        territory_id=company.t["ROOT"].pk,
    )
    assert page.freshness.stored
    assert page.focus is not None and page.focus.attainment == 75.0 and page.focus.win_rate == 50.0


def test_without_a_build_the_page_is_live_and_asks_for_one(client, company, django_capture_on_commit_callbacks):
    client.force_login(company.users["admin"])
    url = reverse("analytics:performance")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        body = client.get(url, {"period": company.q3.pk, "territory": company.t["ROOT"].pk}).content.decode()
    assert 'data-kpi="attainment">75.0%<' in body and 'data-freshness="live"' in body
    assert len(callbacks) == 1  # the build, run inline by the test settings
    stored = FiguresBuild.objects.get(plan=company.plan, period=company.q3)
    assert stored.built_at is not None and stored.requested_at is None
    assert TerritoryFigures.objects.filter(build=stored).count() == company.plan.territories.count()
    body = client.get(url, {"period": company.q3.pk, "territory": company.t["ROOT"].pk}).content.decode()
    assert 'data-kpi="attainment">75.0%<' in body and 'data-freshness="stored"' in body
    assert "Figures as of" in body and "refreshing" not in body


def test_a_second_viewer_does_not_queue_a_second_build(client, company, django_capture_on_commit_callbacks):
    client.force_login(company.users["admin"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client.get(reverse("analytics:forecast"), {"period": company.q3.pk})
        client.get(reverse("analytics:performance"), {"period": company.q3.pk})
    assert len(callbacks) == 1


def test_stale_figures_are_shown_with_their_age_and_refreshed(
    client, company, settings, django_capture_on_commit_callbacks
):
    stored = built(company, company.q3)
    factories.make_opportunity(
        company.accounts["b1"], amount=400, created_date=D(2026, 9, 1), close_date=D(2026, 9, 2), **WON
    )
    client.force_login(company.users["admin"])
    params = {"period": company.q3.pk, "territory": company.t["ROOT"].pk}
    body = client.get(reverse("analytics:performance"), params).content.decode()
    assert 'data-kpi="attainment">75.0%<' in body  # the build's figures, not yet the new deal
    FiguresBuild.objects.filter(pk=stored.pk).update(built_at=timezone.now() - dt.timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        body = client.get(reverse("analytics:performance"), params).content.decode()
    assert "refreshing" in body and 'data-kpi="attainment">75.0%<' in body
    body = client.get(reverse("analytics:performance"), params).content.decode()
    assert 'data-kpi="attainment">125.0%<' in body and "refreshing" not in body


def test_a_territory_newer_than_the_build_is_computed_live(client, company):
    built(company, company.q3)
    new = factories.make_territory(company.plan, code="C", name="Gamma desk", parent=company.t["ROOT"])
    factories.make_opportunity(
        factories.make_account(territory=new), amount=200, created_date=D(2026, 9, 1), close_date=D(2026, 9, 2), **WON
    )
    client.force_login(company.users["admin"])
    body = client.get(
        reverse("analytics:performance"), {"period": company.q3.pk, "territory": company.t["ROOT"].pk}
    ).content.decode()
    assert 'data-kpi="attainment">100.0%<' in body and 'data-freshness="live"' in body
    assert 'data-territory="C"' in body


def test_a_plan_change_and_the_schedule_ask_for_builds(company, django_capture_on_commit_callbacks):
    fresh = built(company, company.q3)
    old = built(company, company.q4)
    FiguresBuild.objects.filter(pk=old.pk).update(built_at=timezone.now() - dt.timedelta(hours=1))
    other_plan = factories.make_plan(name="Draft", status="draft")
    FiguresBuild.objects.create(plan=other_plan, period=company.q3)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert tasks.figures_refresh_due() == 1
    assert len(callbacks) == 1
    assert not FiguresBuild.objects.filter(plan=other_plan).exists()
    assert FiguresBuild.objects.get(pk=old.pk).requested_at is not None
    assert FiguresBuild.objects.get(pk=fresh.pk).requested_at is None
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        hooks.plan_changed.send(sender=None, plan_id=company.plan.pk)
    # Both periods are rebuilt, the pending one too: it may have read the tree before the change.
    assert len(callbacks) == 2
    assert not FiguresBuild.objects.filter(requested_at__isnull=False).exists()


# Reading the store is two queries per kind of figure (the build, its rows); compare reads the
# performance figures and the TAM, and the owners and names of the compared territories' reps.
STORED_MAX_QUERIES = {
    "analytics:performance": 12,
    "analytics:forecast": 12,
    "analytics:compare": 16,
    "analytics:credit": 12,
}


@pytest.mark.parametrize("extra", [0, 30])
@pytest.mark.parametrize("name", list(STORED_MAX_QUERIES))
def test_pages_read_from_the_store_in_few_queries(client, company, extra, name, django_assert_max_num_queries):
    for i in range(extra):
        t = factories.make_territory(company.plan, code=f"Z{i}", name=f"Extra {i}", parent=company.t["B"])
        factories.make_opportunity(factories.make_account(territory=t), amount=10)
    built(company, company.q3)
    client.force_login(company.users["admin"])
    with django_assert_max_num_queries(STORED_MAX_QUERIES[name]):
        body = client.get(reverse(name), {"period": company.q3.pk}).content.decode()
    assert 'data-freshness="stored"' in body


def test_an_admins_coverage_counts_come_from_the_store_and_equal_the_live_ones(
    company, django_capture_on_commit_callbacks
):
    factories.make_account(name="Queue TX", state="US-TX", metro="Austin")  # orphaned
    admin = company.users["admin"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        live = coverage_summary(plan=company.plan, user=admin)
    assert live.freshness is not None and not live.freshness.stored and len(callbacks) == 1
    assert live.orphaned == 1 and live.accounts == 5
    assert coverage_build(plan_id=company.plan.pk) > 0
    stored = coverage_summary(plan=company.plan, user=admin)
    assert stored.freshness is not None and stored.freshness.stored
    assert (stored.accounts, stored.orphaned, stored.by_region) == (live.accounts, live.orphaned, live.by_region)


@pytest.mark.parametrize("role", ["director", "manager"])
def test_other_roles_coverage_counts_are_counted_live(company, role):
    CoverageFigures.objects.create(plan=company.plan)
    coverage_build(plan_id=company.plan.pk)
    factories.make_account(name="Queue TX", state="US-TX", metro="Austin")  # after the build
    summary = coverage_summary(plan=company.plan, user=company.users[role])
    assert summary.freshness is None
    assert summary.orphaned == 1  # the queue they work, counted now
