"""The plan data export (data preparation): territories, assignments in force on a date, and the
performance page's own figures, as CSV and as one XLSX workbook, scoped to the planner's part."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from analytics import plan_data
from analytics.exports import performance_row
from analytics.selectors.performance import rolled_up
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from territories.models import AccountTerritory
from tests.analytics.fixtures import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def company():
    built = build()
    # Placed since New Year, so the rows hold on Q3's last day (the day the export reads).
    AccountTerritory.objects.update(valid_from=timezone.make_aware(dt.datetime(2026, 1, 1)))
    return built


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    body = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(body)))


def download(client, company, role: str, name: str, **params):
    client.force_login(company.users[role])
    query = {"plan": company.plan.pk, "period": company.q3.pk, **params}
    return client.get(reverse(f"analytics:{name}"), query)


def test_territories_list_the_tree_and_the_owner_for_the_director_s_part_only(client, company):
    rows = csv_rows(download(client, company, "director", "plan_data_territories"))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["territory_code", "territory_name", "parent_code"]
    by_code = {r[0]: r for r in body}
    assert sorted(by_code) == ["A", "B", "ROOT"]  # OTHER is another director's region
    assert by_code["A"][2] == "ROOT" and by_code["A"][4] == "2"
    assert by_code["A"][7] in ("an_rep_a", company.users["rep"].get_full_name())
    admin_codes = [r[0] for r in csv_rows(download(client, company, "admin", "plan_data_territories"))[1:]]
    assert "OTHER" in admin_codes


def test_assignments_are_the_rows_in_force_at_the_end_of_the_chosen_day(client, company):
    a1 = company.accounts["a1"]
    row = AccountTerritory.objects.get(account=a1, plan=company.plan, valid_to__isnull=True)
    # a1 left A for B at noon on Sep 30: in force on Sep 29 is A, at the end of Sep 30 it is B.
    handover = timezone.make_aware(dt.datetime(2026, 9, 30, 12))
    row.valid_to = handover
    row.save()
    AccountTerritory.objects.create(account=a1, territory=company.t["B"], plan=company.plan, valid_from=handover)
    q3 = period_choice(str(company.q3.pk))
    assert q3.end == dt.date(2026, 10, 31)


    def where(on: dt.date) -> set[str]:
        table = plan_data.assignments_table(scope_for(company.users["admin"], company.plan), on)
        return {r[3] for r in table.rows if r[0] == a1.pk}

    assert where(dt.date(2026, 9, 29)) == {"A"}
    assert where(dt.date(2026, 9, 30)) == {"B"}
    assert where(dt.date(2025, 12, 31)) == set()  # before it was placed


def test_assignments_csv_names_no_account_outside_the_part(client, company):
    body = csv_rows(download(client, company, "director", "plan_data_assignments"))[1:]
    names = {r[1] for r in body}
    assert names == {"Alpha One", "Alpha Two", "Beta One"}
    assert all(r[5] == "primary" for r in body)


def test_metrics_are_the_performance_page_s_figures(client, company):
    rows = csv_rows(download(client, company, "admin", "plan_data_metrics"))
    by_code = {r[0]: r for r in rows[1:]}
    choice = period_choice(str(company.q3.pk))
    expected = rolled_up(scope=scope_for(company.users["admin"]), choice=choice)
    for figures in expected.values():
        want = [("" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v))
                for v in performance_row(figures, str(choice.period))]
        assert by_code[figures.node.code] == want
    assert by_code["A"][6] == "100.00"  # the hand-computed attainment
    assert by_code["ROOT"][6] == "75.00"


def test_the_workbook_holds_the_three_parts_as_sheets(client, company):
    response = download(client, company, "director", "plan_data_xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert book.sheetnames == ["Territories", "Assignments", "Performance"]
    codes = [row[0] for row in book["Territories"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["A", "B", "ROOT"]
    assert len(list(book["Assignments"].iter_rows(min_row=2))) == 3  # three accounts
    perf = {row[0]: row for row in book["Performance"].iter_rows(min_row=2, values_only=True)}
    assert perf["A"][6] == 100.0


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_managers_and_reps_get_nothing(client, company, role):
    for name in ("plan_data", "plan_data_territories", "plan_data_assignments", "plan_data_metrics",
                 "plan_data_xlsx"):
        assert download(client, company, role, name).status_code == 404


def test_a_bad_plan_is_reported_on_the_page_and_not_downloaded(client, company):
    page = download(client, company, "admin", "plan_data", plan="nope")
    assert page.status_code == 200
    assert "That plan does not exist" in page.content.decode()
    assert download(client, company, "admin", "plan_data_territories", plan="987654").status_code == 404
    assert download(client, company, "admin", "plan_data_territories", plan="x").status_code == 404


def test_the_page_counts_what_each_file_holds(client, company):
    page = download(client, company, "director", "plan_data")
    html = page.content.decode()
    assert 'data-kpi="territories">3<' in html
    assert 'data-kpi="assignments">3<' in html
    assert "Other region" not in html
