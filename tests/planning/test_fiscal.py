"""Fiscal settings: the start month, years created with their quarters and months, refusals."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from planning import fiscal, services
from planning.models import FiscalPeriod, FiscalYear, PlanningSettings
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_february_year_is_named_after_the_year_it_ends_in_and_has_4_quarters_and_12_months():
    year = services.fiscal_year_create(end_year=2028)  # default start month: February
    assert (year.name, year.start_date, year.end_date) == ("FY2028", dt.date(2027, 2, 1), dt.date(2028, 1, 31))
    quarters = list(year.periods.filter(kind=FiscalPeriod.Kind.QUARTER).order_by("start_date"))
    months = list(year.periods.filter(kind=FiscalPeriod.Kind.MONTH).order_by("start_date"))
    assert [q.name for q in quarters] == ["Q1", "Q2", "Q3", "Q4"]
    assert (quarters[0].start_date, quarters[-1].end_date) == (year.start_date, year.end_date)
    assert [m.name for m in months][:2] == ["Feb 2027", "Mar 2027"] and months[-1].name == "Jan 2028"
    # Periods of a kind tile the year: each starts the day after the previous one ends.
    for spans in (quarters, months):
        for a, b in zip(spans, spans[1:], strict=False):
            assert b.start_date == a.end_date + dt.timedelta(days=1)
    # The one definition of "the fiscal year on a date" finds it at both ends.
    from planning.models import covering

    assert FiscalYear.objects.filter(covering(dt.date(2028, 1, 31))).get() == year
    assert FiscalYear.objects.filter(covering(dt.date(2027, 2, 1))).get() == year


def test_start_month_setting_moves_new_years_and_january_is_the_calendar_year():
    services.planning_settings_update(fiscal_year_start_month=1, overload_percent=100, light_percent=50,
                                      balance_tolerance_percent=Decimal(5))
    year = services.fiscal_year_create(end_year=2030)
    assert (year.start_date, year.end_date) == (dt.date(2030, 1, 1), dt.date(2030, 12, 31))
    services.planning_settings_update(fiscal_year_start_month=7, overload_percent=120, light_percent=40,
                                      balance_tolerance_percent=Decimal("2.5"))
    july = services.fiscal_year_create(end_year=2032)
    assert (july.start_date, july.end_date) == (dt.date(2031, 7, 1), dt.date(2032, 6, 30))
    assert PlanningSettings.load().overload_percent == 120


def test_overlapping_or_duplicate_years_are_refused_and_nothing_is_written():
    services.fiscal_year_create(end_year=2028)
    with pytest.raises(ValidationError, match="already exists"):
        services.fiscal_year_create(end_year=2028)
    services.planning_settings_update(fiscal_year_start_month=8, overload_percent=100, light_percent=50,
                                      balance_tolerance_percent=Decimal(5))
    with pytest.raises(ValidationError, match="overlaps FY2028"):
        services.fiscal_year_create(end_year=2027)  # Aug 2026 .. Jul 2027 overlaps Feb 2027 .. Jan 2028
    assert FiscalYear.objects.count() == 1


def test_missing_periods_are_filled_and_disagreeing_ones_refused():
    year = factories.make_fiscal_year("FY2026")  # quarters only
    assert services.fiscal_periods_fill(fiscal_year=year) == 12
    assert services.fiscal_periods_fill(fiscal_year=year) == 0
    odd = FiscalYear.objects.create(name="FY-ODD", start_date=dt.date(2030, 1, 15), end_date=dt.date(2030, 12, 31))
    with pytest.raises(ValidationError, match="twelve whole months"):
        services.fiscal_periods_fill(fiscal_year=odd)


def test_calendar_arithmetic_covers_every_start_month():
    for month in range(1, 13):
        start, end = fiscal.year_span(end_year=2030, start_month=month)
        assert end.year == 2030 and (end + dt.timedelta(days=1)) == fiscal.add_months(start, 12)
        assert len(fiscal.year_periods(start)) == 16


@pytest.mark.parametrize("role", ["director", "manager", "rep"])
def test_only_admins_open_or_post_the_fiscal_page(client, role):
    client.force_login(factories.make_user(role, username=f"f_{role}"))
    assert client.get(reverse("planning:fiscal")).status_code == 404
    assert client.post(reverse("planning:fiscal_year_add"), {"end_year": 2029}).status_code == 404
    assert client.post(reverse("planning:fiscal_settings_save"), {"fiscal_year_start_month": 1}).status_code == 404
    assert not FiscalYear.objects.exists() and not PlanningSettings.objects.exists()


def test_admin_adds_a_year_and_bad_input_gets_a_message(client, admin_user):
    client.force_login(admin_user)
    page = client.get(reverse("planning:fiscal")).content.decode()
    assert "No fiscal years yet" in page
    response = client.post(reverse("planning:fiscal_year_add"), {"end_year": "2029"}, follow=True)
    assert "FY2029 created with its 4 quarters and 12 months" in response.content.decode()
    bad = client.post(reverse("planning:fiscal_year_add"), {"end_year": "20x9"})
    assert bad.status_code == 400 and "Enter a whole number" in bad.content.decode()
    again = client.post(reverse("planning:fiscal_year_add"), {"end_year": "2029"})
    assert again.status_code == 400 and "FY2029 already exists." in again.content.decode()
    settings = client.post(reverse("planning:fiscal_settings_save"), {
        "fiscal_year_start_month": "13", "overload_percent": "80", "light_percent": "90",
        "balance_tolerance_percent": "5"})
    body = settings.content.decode()
    assert settings.status_code == 400 and "Must be below the overload threshold." in body
    assert "Select a valid choice" in body and not PlanningSettings.objects.exists()
    assert FiscalYear.objects.count() == 1
