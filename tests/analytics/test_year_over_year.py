"""Year over year against a hand-computed fixture: each year on its plan, accounts at the year's
end, won and attainment summed over the quarters, and the change in accounts split into what
the year's executed proposals moved and the rest; scoped to each role's part."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from analytics.selectors.year_over_year import year_over_year
from planning.models import FiscalPeriod, Quota, Reassignment, ReassignmentMove
from territories.models import AccountTerritory
from tests import factories
from tests.analytics.fixtures import WON, build

pytestmark = pytest.mark.django_db
D = dt.date
TODAY = D(2026, 12, 7)


def aware(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(9)))


def two_years():
    """The analytics company over FY2025 and FY2026, with one mid-year move (B to A)."""
    c = build()
    # Every account placed since March 2025, so both years see them.
    AccountTerritory.objects.update(valid_from=aware(D(2025, 3, 1)))
    fy25 = factories.make_fiscal_year("FY2025", start=D(2025, 2, 1))
    q3_25 = FiscalPeriod.objects.get(fiscal_year=fy25, name="Q3")
    Quota.objects.create(territory=c.t["A"], period=q3_25, amount=Decimal(1000))
    factories.make_opportunity(c.accounts["a1"], amount=500, created_date=D(2025, 8, 1), close_date=D(2025, 9, 1),
                               **WON)
    # Mid-year: Beta One moves from B to A on June 1, 2026, by an executed proposal.
    b1 = c.accounts["b1"]
    AccountTerritory.objects.filter(account=b1, valid_to__isnull=True).update(valid_to=aware(D(2026, 6, 1)))
    factories.place(b1, c.t["A"], valid_from=aware(D(2026, 6, 1)))
    proposal = Reassignment.objects.create(
        plan=c.plan, kind=Reassignment.Kind.MOVE_ACCOUNTS, title="Beta One to Alpha", initiator=c.users["admin"],
        change={"accounts": [b1.pk], "to_territory": c.t["A"].pk}, effective_date=D(2026, 6, 1),
    )
    ReassignmentMove.objects.create(reassignment=proposal, account=b1, from_territory=c.t["B"],
                                    to_territory=c.t["A"])
    Reassignment.objects.filter(pk=proposal.pk).update(status=Reassignment.Status.DONE)
    c.fy25 = fy25  # type: ignore[attr-defined]
    return c


@pytest.fixture
def company():
    return two_years()


def rows(company, role="admin", year=None):
    with time_machine.travel(aware(TODAY), tick=False):
        page = year_over_year(company.users[role], str(year.pk) if year else None)
    return page, {r.code: r for r in page.rows}


def test_accounts_change_splits_into_mid_year_moves_and_the_rest(company):
    page, by_code = rows(company)
    assert (page.year.name, page.prior.name) == ("FY2026", "FY2025")
    a, b, root = by_code["A"], by_code["B"], by_code["ROOT"]
    assert (a.last.accounts, a.this.accounts, a.accounts_change, a.mid_year, a.other) == (2, 3, 1, 1, 0)
    assert (b.last.accounts, b.this.accounts, b.accounts_change, b.mid_year, b.other) == (1, 0, -1, -1, 0)
    # A move inside ROOT's subtree changes neither its accounts nor its mid-year figure.
    assert (root.accounts_change, root.moved_in, root.moved_out) == (0, 0, 0)
    assert (page.changes, page.moved_accounts) == (1, 1)


def test_won_and_attainment_are_the_quarters_summed(company):
    _, by_code = rows(company)
    a = by_code["A"]
    assert a.last.won_amount == Decimal(500) and a.last.quota == Decimal(1000)
    assert a.last.attainment == 50.0
    # FY2026: 100 + 300 in Q3 and 999 in Q4 (Nov 5); the quota is Q3's 800 at ramp 0.5.
    assert a.this.won_amount == Decimal(1399) and a.this.quota == Decimal("400.00")
    assert a.this.attainment == pytest.approx(349.75)
    assert a.attainment_change == pytest.approx(299.75)


def test_the_totals_add_up_the_top_territories(company):
    page, by_code = rows(company)
    totals = page.totals
    assert totals.this.accounts == by_code["ROOT"].this.accounts + by_code["OTHER"].this.accounts == 4
    assert totals.moved_in == 0  # the move stayed inside ROOT


@pytest.mark.parametrize(("role", "codes"), [
    ("admin", {"ROOT", "A", "B", "OTHER"}), ("director", {"ROOT", "A", "B"}), ("rep", {"A"}),
])
def test_each_role_sees_its_part(company, role, codes):
    _, by_code = rows(company, role)
    assert set(by_code) == codes


def test_the_first_year_has_nothing_to_compare_with(company):
    page, by_code = rows(company, year=company.fy25)
    assert page.prior is None
    assert by_code["A"].last is None and by_code["A"].this.accounts == 2


def test_the_page_renders_and_reports_a_bad_year(client, company):
    client.force_login(company.users["director"])
    with time_machine.travel(aware(TODAY), tick=False):
        ok = client.get(reverse("analytics:year_over_year"))
        bad = client.get(reverse("analytics:year_over_year"), {"year": "nope"})
    html = ok.content.decode()
    assert ok.status_code == 200 and 'data-code="A"' in html and "Other region" not in html
    assert bad.status_code == 200 and "That fiscal year does not exist" in bad.content.decode()
