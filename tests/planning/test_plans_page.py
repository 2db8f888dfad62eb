"""The planning page lists only the plans a role may open, with the territories it sees."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.analytics.test_scoped_pages import Company, build_company

pytestmark = pytest.mark.django_db


@pytest.fixture
def company() -> Company:
    return build_company()


def territory_count(body: str, plan_name: str) -> int:
    row = body[body.index(plan_name):]
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
