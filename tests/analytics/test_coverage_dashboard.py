"""The coverage dashboard's counts (conflicts, white space) and its trend from daily snapshots."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from analytics.models import CoverageSnapshot, WhiteSpaceArea
from analytics.services import coverage_snapshot_take
from analytics.tasks import DAILY_SNAPSHOT, coverage_snapshot_daily
from territories.models import AccountTerritory
from tests import factories
from tests.analytics.fixtures import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    c = build()
    # The queue: two Texas accounts (no territory covers Texas) and one Californian beside placed ones.
    factories.make_account(name="Queue TX 1", state="US-TX", metro="Austin", potential=1000)
    factories.make_account(name="Queue TX 2", state="US-TX", metro="Austin", potential=500)
    factories.make_account(name="Queue CA", state="US-CA", potential=70)
    AccountTerritory.objects.filter(account=c.accounts["b1"]).update(conflict=True)
    return c


def test_the_snapshot_records_every_count(company):
    snap = coverage_snapshot_take()
    assert (snap.orphaned, snap.white_space) == (3, 2)  # Texas and Austin hold only queued accounts
    rows = {r.territory.code: r for r in CoverageSnapshot.objects.filter(territory__isnull=False)}
    assert (rows["A"].accounts, rows["B"].conflicts, rows["B"].vacant) == (2, 1, False)
    areas = {(a.level, a.code): a for a in WhiteSpaceArea.objects.all()}
    tx = areas[("state", "US-TX")]
    assert (tx.accounts, tx.unassigned, tx.potential, tx.uncovered) == (2, 2, 1500, True)
    ca = areas[("state", "US-CA")]
    assert (ca.unassigned, ca.uncovered) == (1, False)  # partly covered
    assert ("state", "US-NY") not in areas  # every New York account sits in a territory


def test_taking_it_again_the_same_day_replaces_it(company):
    coverage_snapshot_take()
    coverage_snapshot_take()
    assert CoverageSnapshot.objects.filter(territory__isnull=True).count() == 1
    assert WhiteSpaceArea.objects.filter(level="state", code="US-TX").count() == 1


def test_the_daily_schedule_exists_and_runs(company):
    assert Schedule.objects.filter(func=DAILY_SNAPSHOT, schedule_type="D").exists()
    assert coverage_snapshot_daily() > 0


def body(client, user):
    client.force_login(user)
    response = client.get(reverse("analytics:index"))
    assert response.status_code == 200
    return response.content.decode()


def test_the_dashboard_shows_counts_trend_and_white_space(client, company):
    today = timezone.localdate()
    coverage_snapshot_take(day=today - dt.timedelta(days=1))
    coverage_snapshot_take(day=today)
    page = body(client, company.users["admin"])
    assert 'data-kpi="conflicts">1<' in page and 'data-kpi="white-space">2<' in page
    assert 'data-kpi="orphaned">3<' in page
    assert 'data-chart="chart-coverage-trend"' in page and "2 snapshots" in page
    assert "?state=US-TX" in page and "No territory" in page
    assert reverse("routing:conflicts") in page and "?vacant=1" in page


def test_a_manager_sees_the_conflicts_of_their_part_only(client, company):
    coverage_snapshot_take()
    page = body(client, company.users["manager"])
    assert 'data-kpi="conflicts">0<' in page  # the conflict is in B, not the manager's
    director = body(client, company.users["director"])
    assert 'data-kpi="conflicts">1<' in director


def test_the_trend_sums_only_the_territories_a_user_sees(company):
    from analytics.selectors.coverage import coverage_trend
    from analytics.selectors.scope import scope_for

    CoverageSnapshot.objects.all().delete()
    coverage_snapshot_take()
    manager = coverage_trend(territory_ids=scope_for(company.users["manager"]).ids)
    director = coverage_trend(territory_ids=scope_for(company.users["director"]).ids)
    assert (manager[0]["conflicts"], director[0]["conflicts"]) == (0, 1)


def test_without_a_snapshot_the_page_says_so(client, company):
    page = body(client, company.users["admin"])
    assert "No snapshot yet" in page


def test_the_csv_carries_the_counts(client, company):
    coverage_snapshot_take()
    client.force_login(company.users["admin"])
    text = b"".join(client.get(reverse("analytics:export_coverage")).streaming_content).decode()
    assert "count,conflicts,,1" in text and "white_space_state,US-TX,US-TX,2" in text
    client.force_login(company.users["rep"])
    assert client.get(reverse("analytics:export_coverage")).status_code == 404
