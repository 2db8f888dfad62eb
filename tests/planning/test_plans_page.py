"""The planning page lists only the plans a role may open, with the territories it sees."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from planning.models import FiscalPeriod, FiscalYear
from tests.analytics.test_scoped_pages import Company, build_company

pytestmark = pytest.mark.django_db


@pytest.fixture
def company() -> Company:
    return build_company()


def territory_count(body: str, plan_name: str) -> int:
    row = body[body.index(plan_name) :]
    return int(re.search(r'<td class="num">(\d+)</td>', row).group(1))


@pytest.mark.parametrize("role", ["admin", "director", "manager", "rep"])
def test_plans_listed_are_the_plans_the_role_may_open(client, company, role):
    client.force_login(company.users[role])
    body = client.get(reverse("planning:index")).content.decode()
    assert "FY26 Live" in body
    assert ("Secret Draft Plan" in body) == (role in ("admin", "director"))
    # Whatever is listed opens: the territory tree of that plan answers 200, never 404.
    for plan in (company.live, company.draft):
        if plan.name in body:
            assert client.get(reverse("territories:index"), {"plan": plan.pk}).status_code == 200
    # Territories counted are the ones the role sees (the live plan has 6).
    assert territory_count(body, "FY26 Live") == {"admin": 6, "director": 3, "manager": 1, "rep": 1}[role]


def fiscal_card(body: str, name: str) -> str:
    start = body.index(f'<h3 class="h5 m-0">{name}</h3>')
    return body[start : body.index("</article>", start)]


def test_current_fiscal_year_and_quarter_are_marked_with_both_ends_inclusive(client, company):
    today = timezone.localdate()
    ending = FiscalYear.objects.create(name="FY-END", start_date=today - dt.timedelta(days=364), end_date=today)
    FiscalPeriod.objects.create(
        fiscal_year=ending, name="Q3", start_date=today - dt.timedelta(days=180), end_date=today - dt.timedelta(days=1)
    )
    FiscalPeriod.objects.create(fiscal_year=ending, name="Q4", start_date=today - dt.timedelta(days=90), end_date=today)
    starting = FiscalYear.objects.create(
        name="FY-NEXT", start_date=today + dt.timedelta(days=1), end_date=today + dt.timedelta(days=365)
    )
    FiscalPeriod.objects.create(
        fiscal_year=starting, name="Q1", start_date=today + dt.timedelta(days=1), end_date=today + dt.timedelta(days=90)
    )
    client.force_login(company.users["admin"])
    body = client.get(reverse("planning:index")).content.decode()
    ending_card, next_card = fiscal_card(body, "FY-END"), fiscal_card(body, "FY-NEXT")
    assert ">Current</span>" in ending_card and ">Current</span>" not in next_card
    assert ending_card.count(">Now</span>") == 1 and "Q4 <span" in ending_card
    assert ">Now</span>" not in next_card


def test_only_the_active_plan_carries_the_active_mark(client, company):
    client.force_login(company.users["admin"])
    body = client.get(reverse("planning:index")).content.decode()
    rows = {name: body[body.index(name) :].split("</tr>", 1)[0] for name in ("FY26 Live", "Secret Draft Plan")}
    assert "bi-check-circle-fill" in rows["FY26 Live"]
    assert "bi-check-circle-fill" not in rows["Secret Draft Plan"]
