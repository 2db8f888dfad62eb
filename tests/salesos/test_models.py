"""Constraints the database itself holds, on SQLite and PostgreSQL alike."""

import datetime as dt
from decimal import Decimal

import pytest

from salesos.models import Account, Activity, Industry, Leave, Opportunity, SalesProfile
from tests.factories import assert_db_refuses, make_account, make_user

pytestmark = pytest.mark.django_db



def test_industry_code_is_unique_within_a_scheme_but_not_across():
    Industry.objects.create(scheme="naics", code="5112", title="Software Publishers")
    Industry.objects.create(scheme="sic", code="5112", title="Stationery and Office Supplies")
    assert_db_refuses(lambda: Industry.objects.create(scheme="naics", code="5112", title="Again"))


def test_choosing_an_industry_sets_the_code_unless_a_finer_one_is_under_it():
    sector = Industry.objects.create(scheme="naics", code="62", title="Health Care and Social Assistance")
    hospitals = Industry.objects.create(scheme="naics", code="622", title="Hospitals", parent=sector, level=2)
    account = make_account(industry=hospitals)
    assert Account.objects.get(pk=account.pk).industry_code == "622"
    account.industry_code = "622110"
    account.save()
    assert Account.objects.get(pk=account.pk).industry_code == "622110"
    account.industry = sector
    account.save(update_fields=["industry"])
    assert Account.objects.get(pk=account.pk).industry_code == "622110"
    other = Industry.objects.create(scheme="naics", code="51", title="Information")
    account.industry = other
    account.save(update_fields=["industry"])
    assert Account.objects.get(pk=account.pk).industry_code == "51"


def _opportunity(**kw) -> Opportunity:
    account = kw.pop("account", None) or make_account()
    defaults = dict(
        account=account,
        name="Deal",
        amount=Decimal("1000"),
        stage="prospecting",
        status="open",
        created_date=dt.date(2026, 3, 1),
        close_date=dt.date(2026, 6, 1),
    )
    defaults.update(kw)
    return Opportunity.objects.create(**defaults)


def test_opportunity_status_must_match_its_stage():
    _opportunity(stage="closed_won", status="won")
    _opportunity(stage="closed_lost", status="lost")
    assert_db_refuses(lambda: _opportunity(stage="closed_won", status="open"))
    assert_db_refuses(lambda: _opportunity(stage="negotiation", status="won"))


def test_opportunity_amount_probability_and_dates_are_checked():
    assert_db_refuses(lambda: _opportunity(amount=Decimal("-1")))
    assert_db_refuses(lambda: _opportunity(probability=101))
    assert_db_refuses(lambda: _opportunity(created_date=dt.date(2026, 6, 2), close_date=dt.date(2026, 6, 1)))


def test_leave_cannot_end_before_it_starts():
    user = make_user()
    Leave.objects.create(user=user, start=dt.date(2026, 1, 1), end=dt.date(2026, 1, 1))
    assert_db_refuses(lambda: Leave.objects.create(user=user, start=dt.date(2026, 1, 2), end=dt.date(2026, 1, 1)))


def test_profile_cannot_be_its_own_manager_and_ramp_is_bounded():
    user = make_user()
    profile = user.sales_profile
    profile.manager = user
    assert_db_refuses(profile.save)
    profile.refresh_from_db()
    profile.ramp_months = 25
    assert_db_refuses(profile.save)


def test_ramp_factor_rises_from_zero_at_hire_to_one_at_ramp_end():
    user = make_user(hire_date=dt.date(2026, 1, 1), ramp_months=4)
    profile = SalesProfile.objects.get(user=user)
    assert profile.ramp_ends() == dt.date(2026, 5, 1)
    assert profile.ramp_factor(dt.date(2026, 1, 1)) == 0.0
    assert 0.45 < profile.ramp_factor(dt.date(2026, 3, 2)) < 0.55
    assert profile.ramp_factor(dt.date(2026, 5, 1)) == 1.0
    assert profile.is_ramping(dt.date(2026, 4, 30)) and not profile.is_ramping(dt.date(2026, 5, 1))


def test_activity_belongs_to_an_account():
    account = make_account()
    Activity.objects.create(account=account, kind="call", subject="Intro")
    assert account.activities.count() == 1
