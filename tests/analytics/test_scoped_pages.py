"""The analytics page shows each role only what it may see: account counts, pipeline, regions and
vacant territories of other parts of the company never reach the body."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from territories.grants import grants_rebuild
from tests import factories

pytestmark = pytest.mark.django_db


@dataclass
class Company:
    users: dict
    live: object
    draft: object


def build_company() -> Company:
    """AMER (its director) with a West team (manager, rep) and a vacant AMER desk; EMEA (another
    director) with a rep and a vacant EMEA desk; one unassigned APAC account; a draft plan."""
    live = factories.make_plan(name="FY26 Live")
    draft = factories.make_plan(name="Secret Draft Plan", status="draft")
    admin = factories.make_user("admin", username="sc_admin")
    dir_amer = factories.make_user("director", username="sc_dir_amer")
    mgr_west = factories.make_user("manager", username="sc_mgr_west", manager=dir_amer)
    rep_west = factories.make_user("rep", username="sc_rep_west", manager=mgr_west)
    dir_emea = factories.make_user("director", username="sc_dir_emea")
    rep_emea = factories.make_user("rep", username="sc_rep_emea", manager=dir_emea)
    amer = factories.make_territory(live, code="AMER", name="Americas Region")
    west = factories.make_territory(live, code="WEST", name="West Desk", parent=amer)
    factories.make_territory(live, code="AMER-VAC", name="Amer Vacant Desk", parent=amer)
    emea = factories.make_territory(live, code="EMEA", name="Emea Region")
    emea_1 = factories.make_territory(live, code="EMEA-1", name="Emea Nordics", parent=emea)
    factories.make_territory(live, code="EMEA-VAC", name="Emea Vacant Desk", parent=emea)
    factories.make_territory(draft, code="D-1", name="Draft Only Desk")
    factories.assign(amer, dir_amer)
    factories.assign(west, rep_west)
    factories.assign(emea, dir_emea)
    factories.assign(emea_1, rep_emea)
    for i in range(2):
        factories.make_opportunity(factories.make_account(name=f"West Co {i}", territory=west), amount=11_111)
    for i in range(3):
        account = factories.make_account(name=f"Nordic Co {i}", territory=emea_1, region="EMEA", country="SE",
                                         state="")
        if i == 0:
            factories.make_opportunity(account, amount=987_654)
    factories.make_account(name="Queued Co", region="APAC", country="JP", state="")
    grants_rebuild()
    users = {"admin": admin, "director": dir_amer, "manager": mgr_west, "rep": rep_west}
    return Company(users=users, live=live, draft=draft)


@pytest.fixture
def company() -> Company:
    return build_company()


def page(client, company, role: str, name: str) -> str:
    client.force_login(company.users[role])
    response = client.get(reverse(name))
    assert response.status_code == 200
    return response.content.decode()


def test_admin_sees_the_whole_company(client, company):
    body = page(client, company, "admin", "analytics:index")
    assert "Emea Vacant Desk" in body and "Amer Vacant Desk" in body
    assert "$987,654" in body
    assert 'data-kpi="vacant">2<' in body


@pytest.mark.parametrize("role", ["director", "manager"])
def test_leaders_see_only_their_part(client, company, role):
    body = page(client, company, role, "analytics:index")
    assert "Emea Vacant Desk" not in body and "987,654" not in body and "EMEA" not in body
    # Their West accounts and pipeline, and the unassigned queue they work (one account).
    assert "$22,222" in body
    assert 'data-kpi="orphaned">1<' in body
    assert ("Amer Vacant Desk" in body) == (role == "director")
    assert 'data-kpi="vacant">{}<'.format(1 if role == "director" else 0) in body


def test_reps_see_no_company_figures(client, company):
    client.force_login(company.users["rep"])
    response = client.get(reverse("analytics:index"), follow=True)
    assert response.redirect_chain == [(reverse("analytics:performance"), 302)]
    body = response.content.decode()
    assert "Vacant Desk" not in body and "Amer Vacant" not in body and "Orphaned accounts" not in body
