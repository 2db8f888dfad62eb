"""The foundation pages: login, the role-aware home page and the four area index pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.urls import reverse

from salesos.models import SalesProfile
from territories.models import RepAssignment, Territory
from tests import factories

Role = SalesProfile.Role
PAGES = ["home", "territories:index", "routing:index", "planning:index", "analytics:index"]
# The same ceiling at every data size: a page's query count must not grow with the data.
# (session + user + profile are 3 of each.)
# Each page also counts the unread-notification badge in the navbar (one query).
# Admins, directors and managers pay one more: the approvals badge (planning.context_processors).
HOME_MAX_QUERIES = {"admin": 12, "director": 8, "manager": 8, "rep": 8}
# The analytics page is the coverage dashboard: its counts, snapshot trend and charts; an admin's
# region counts are read from the store (one query), and the first view asks for them (one more).
# planning:index: plans, fiscal years with quarters, the simulated drafts (one query each, whatever their number).
AREA_MAX_QUERIES = {"territories:index": 11, "routing:index": 10, "planning:index": 9, "analytics:index": 17}


@dataclass
class Org:
    plan: object
    director: object
    manager: object
    rep_west: object
    rep_east: object
    other_rep: object
    west: Territory
    east: Territory
    central: Territory
    overlay: Territory


def build_org(*, accounts_per_territory: int = 3, orphans: int = 2) -> Org:
    """A small sales org: director > manager > two reps, a third rep elsewhere, a region with
    west/east children, a vacant central territory and an overlay territory."""
    plan = factories.make_plan(name="FY26 Annual", fiscal_year=factories.make_fiscal_year("FY2026"))
    director = factories.make_user(Role.DIRECTOR, username="dora")
    manager = factories.make_user(Role.MANAGER, username="mona", manager=director)
    rep_west = factories.make_user(Role.REP, username="wes", manager=manager)
    rep_east = factories.make_user(Role.REP, username="eve", manager=manager, hire_date=dt.date.today())
    other_manager = factories.make_user(Role.MANAGER, username="omar")
    other_rep = factories.make_user(Role.REP, username="otto", manager=other_manager)
    factories.make_leave(rep_west)

    region = factories.make_territory(plan, code="AMER", name="Americas")
    west = factories.make_territory(plan, code="AMER-W", name="West", parent=region)
    east = factories.make_territory(plan, code="AMER-E", name="East", parent=region)
    central = factories.make_territory(plan, code="AMER-C", name="Central", parent=region)
    emea = factories.make_territory(plan, code="EMEA", name="Europe")
    overlay = factories.make_territory(
        plan, code="OVL-HC", name="Healthcare overlay", is_overlay=True, type=Territory.Type.INDUSTRY, credit_percent=50
    )
    factories.assign(region, director)
    factories.assign(west, rep_west)
    factories.assign(east, rep_east)
    factories.assign(emea, other_rep)
    factories.assign(overlay, other_rep, slot=RepAssignment.Slot.OVERLAY, split_percent=50)
    factories.assign(west, rep_east, slot=RepAssignment.Slot.BACKUP)

    for territory, prefix in ((west, "Westco"), (east, "Eastco"), (emea, "Euroco")):
        for i in range(accounts_per_territory):
            account = factories.make_account(name=f"{prefix} {i:03d}", territory=territory)
            factories.make_opportunity(account, amount=Decimal("1000.00"))
            factories.make_opportunity(account, amount=Decimal("5000.00"), status="won", stage="closed_won")
    for i in range(orphans):
        factories.make_account(name=f"Orphan {i:03d}", region="EMEA")
    return Org(plan, director, manager, rep_west, rep_east, other_rep, west, east, central, overlay)


@pytest.fixture
def org(db) -> Org:
    return build_org()


# --- login and anonymous access -----------------------------------------------------------


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="username"' in body and 'name="password"' in body
    assert "Demo accounts" not in body


def test_login_shows_demo_hint_only_in_development(client, settings, make_user):
    make_user(Role.ADMIN, username="admin")
    make_user(Role.REP, username="rep")
    settings.DEVELOPMENT = True
    body = client.get(reverse("login")).content.decode()
    assert "Demo accounts" in body and "<code>admin</code>" in body and settings.SALESOS_DEMO_PASSWORD in body
    assert "<code>director</code>" not in body
    settings.DEVELOPMENT = False
    assert "Demo accounts" not in client.get(reverse("login")).content.decode()


def test_login_shows_errors_and_follows_next(client, make_user):
    make_user(Role.REP, username="rita")
    bad = client.post(reverse("login"), {"username": "rita", "password": "nope"})
    assert bad.status_code == 200 and "alert-danger" in bad.content.decode()
    target = reverse("territories:index")
    good = client.post(
        f"{reverse('login')}?next={target}", {"username": "rita", "password": "pw-Secret-123", "next": target}
    )
    assert good.status_code == 302 and good["Location"] == target


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_users_are_sent_to_login(client, db, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


def test_logout_is_a_post(client, make_user):
    client.force_login(make_user(Role.REP))
    assert client.post(reverse("logout")).status_code == 302
    assert client.get(reverse("home")).status_code == 302


# --- the navigation -----------------------------------------------------------------------


def test_navbar_marks_the_current_area_and_role(client, org):
    client.force_login(org.manager)
    body = client.get(reverse("planning:index")).content.decode()
    assert f'href="{reverse("planning:index")}"\n                 aria-current="page"' in body
    assert "role-manager" in body and "Mona Tester" in body
    assert "x-csrftoken" in body and "htmx" in body
    assert "Admin site" not in body


# --- home, per role -----------------------------------------------------------------------


def kpi(body: str, name: str) -> str:
    start = body.index(f'data-kpi="{name}">') + len(f'data-kpi="{name}">')
    return body[start : body.index("<", start)]


def test_admin_home_shows_coverage_counts(client, admin_user, org):
    client.force_login(admin_user)
    body = client.get(reverse("home")).content.decode()
    assert kpi(body, "accounts") == "11"
    assert kpi(body, "assigned") == "9"
    assert kpi(body, "unassigned") == "2"
    assert kpi(body, "territories") == "6"
    # AMER-C has no one; AMER is held by the director; OVL-HC, an overlay, is staffed by its overlay rep.
    assert kpi(body, "vacant") == "1"
    assert kpi(body, "overlay") == "1"
    assert kpi(body, "pipeline") == "$9,000"
    assert kpi(body, "reps") == "3"
    assert "Largest territories" in body and "AMER-W" in body


def test_admin_home_formats_large_numbers(client, admin_user, org):
    account = factories.make_account(name="Bigco", territory=org.west)
    factories.make_opportunity(account, amount=Decimal("1234567.00"))
    client.force_login(admin_user)
    body = client.get(reverse("home")).content.decode()
    assert kpi(body, "pipeline") == "$1,243,567"


def test_rep_home_shows_only_their_territory_accounts(client, org):
    client.force_login(org.rep_west)
    body = client.get(reverse("home")).content.decode()
    assert "My territory" in body
    assert "AMER-W" in body and "Primary owner" in body
    assert "Westco 000" in body
    assert "Eastco" not in body and "Euroco" not in body and "Orphan" not in body


def test_rep_home_marks_backup_slots_and_lists_only_primary_accounts(client, org):
    client.force_login(org.rep_east)
    body = client.get(reverse("home")).content.decode()
    assert "Backup" in body and "AMER-W" in body
    assert "Eastco 000" in body and "Westco" not in body


def test_rep_home_search_and_pages(client, org):
    for i in range(55):
        factories.make_account(name=f"Zeta {i:03d}", territory=org.west)
    client.force_login(org.rep_west)
    first = client.get(reverse("home")).content.decode()
    assert "Page 1 of 2" in first and "1–50 of 58" in first
    found = client.get(reverse("home"), {"q": "westco 001"}).content.decode()
    assert "Westco 001" in found and "Westco 000" not in found and "Zeta" not in found
    missing = client.get(reverse("home"), {"q": "nothing-like-this"}).content.decode()
    assert "No account matches" in missing


def test_rep_home_htmx_returns_the_table_only(client, org):
    client.force_login(org.rep_west)
    response = client.get(reverse("home"), {"q": "Westco"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="rep-accounts">')
    assert "<nav" not in body.split('<div id="rep-accounts">')[0]
    assert "Westco 000" in body


def test_manager_home_lists_direct_reports(client, org):
    client.force_login(org.manager)
    body = client.get(reverse("home")).content.decode()
    assert "My team" in body
    assert "Wes Tester" in body and "Eve Tester" in body
    assert "Otto" not in body
    assert "On leave" in body and "Ramping" in body
    assert "AMER-W" in body and "AMER-E" in body


def test_director_home_lists_managers_and_their_reps(client, org):
    client.force_login(org.director)
    body = client.get(reverse("home")).content.decode()
    assert "Mona Tester" in body and "Wes Tester" in body and "Eve Tester" in body
    assert "Otto" not in body and "Omar" not in body
    assert "$6,000" in body  # the team's open pipeline: six open deals of $1,000


def test_user_without_profile_sees_empty_state(client, django_user_model, org):
    user = django_user_model.objects.create_user(username="nobody", password="x")
    client.force_login(user)
    body = client.get(reverse("home")).content.decode()
    assert "You have no territory yet" in body
    assert "No role" in body


def test_rep_without_assignment_sees_empty_state(client, org, make_user):
    client.force_login(make_user(Role.REP))
    assert "You have no territory yet" in client.get(reverse("home")).content.decode()


def test_no_active_plan_empty_state(client, admin_user):
    client.force_login(admin_user)
    body = client.get(reverse("home")).content.decode()
    assert "No active territory plan yet" in body and reverse("planning:index") in body


# --- query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize("who", ["admin", "director", "manager", "rep"])
def test_home_query_count_is_bounded(client, admin_user, db, size, who, django_assert_max_num_queries):
    org = build_org(accounts_per_territory=size, orphans=size)
    user = {"admin": admin_user, "director": org.director, "manager": org.manager, "rep": org.rep_west}[who]
    client.force_login(user)
    with django_assert_max_num_queries(HOME_MAX_QUERIES[who]):
        assert client.get(reverse("home")).status_code == 200


@pytest.mark.parametrize("size", [5, 60])
@pytest.mark.parametrize("name", ["territories:index", "routing:index", "planning:index", "analytics:index"])
def test_area_query_count_is_bounded(client, admin_user, db, size, name, django_assert_max_num_queries):
    build_org(accounts_per_territory=size, orphans=size)
    client.force_login(admin_user)
    with django_assert_max_num_queries(AREA_MAX_QUERIES[name]):
        assert client.get(reverse(name)).status_code == 200


# --- area pages ---------------------------------------------------------------------------


def test_territories_index_hides_foreign_territories_from_a_rep(client, org):
    client.force_login(org.rep_west)
    body = client.get(reverse("territories:index")).content.decode()
    assert "AMER-W" in body
    for code in ("AMER-E", "AMER-C", "EMEA", "OVL-HC"):
        assert code not in body


def test_territories_index_manager_sees_team_territories(client, org):
    client.force_login(org.manager)
    body = client.get(reverse("territories:index")).content.decode()
    assert "AMER-W" in body and "AMER-E" in body
    assert "EMEA" not in body and "AMER-C" not in body


def test_territories_index_admin_sees_the_tree_in_order(client, admin_user, org):
    client.force_login(admin_user)
    body = client.get(reverse("territories:index")).content.decode()
    positions = [body.index(f">{code}<") for code in ("AMER", "AMER-C", "AMER-E", "AMER-W", "EMEA", "OVL-HC")]
    assert positions == sorted(positions)
    assert 'data-depth="1"' in body and "Vacant" in body


def test_routing_queue_for_managers_and_message_for_reps(client, org):
    client.force_login(org.manager)
    body = client.get(reverse("routing:index")).content.decode()
    assert kpi(body, "unassigned") == "2" and "Orphan 000" in body
    client.force_login(org.rep_west)
    body = client.get(reverse("routing:index")).content.decode()
    assert "Routing is managed by sales ops" in body and "Orphan" not in body


def test_planning_lists_plans_and_fiscal_quarters(client, admin_user, org):
    factories.make_plan(name="FY27 Draft", status="draft")
    client.force_login(admin_user)
    body = client.get(reverse("planning:index")).content.decode()
    assert "FY26 Annual" in body and "FY27 Draft" in body and "FY2026" in body and "Q4" in body
    client.force_login(org.rep_west)
    assert "FY27 Draft" not in client.get(reverse("planning:index")).content.decode()


def test_analytics_shows_coverage(client, admin_user, org):
    client.force_login(admin_user)
    body = client.get(reverse("analytics:index")).content.decode()
    assert kpi(body, "orphaned") == "2" and kpi(body, "vacant") == "1"
    assert "Industry" in body and "EMEA" in body and "AMER-C" in body
    client.force_login(org.rep_west)
    response = client.get(reverse("analytics:index"))
    assert response.status_code == 302 and response.url == reverse("analytics:performance")


def test_every_role_gets_the_analytics_area_in_the_navbar(client, admin_user, org):
    for user in (admin_user, org.director, org.manager, org.rep_west):
        client.force_login(user)
        body = client.get(reverse("home")).content.decode()
        assert f'href="{reverse("analytics:index")}"' in body, user


def test_an_overlay_without_overlay_reps_is_vacant(client, admin_user, org):
    org.overlay_free = factories.make_territory(org.plan, code="OVL-FIN", is_overlay=True, credit_percent=30)
    client.force_login(admin_user)
    body = client.get(reverse("home")).content.decode()
    assert kpi(body, "vacant") == "2"


@pytest.mark.parametrize("who", ["admin", "director", "manager", "rep"])
def test_home_renders_one_page_per_role(client, admin_user, org, who):
    user = {"admin": admin_user, "director": org.director, "manager": org.manager, "rep": org.rep_west}[who]
    client.force_login(user)
    names = {t.name for t in client.get(reverse("home")).templates}
    assert f"pages/home/{who}.html" in names
    others = {f"pages/home/{other}.html" for other in ["admin", "director", "manager", "rep"] if other != who}
    assert not others & names


def test_user_without_role_gets_the_no_role_page(client, django_user_model, org):
    client.force_login(django_user_model.objects.create_user(username="nobody", password="x"))
    assert "pages/home/no_role.html" in {t.name for t in client.get(reverse("home")).templates}


def test_rep_home_shows_credit_on_overlay_slots_only(client, org):
    client.force_login(org.other_rep)
    body = client.get(reverse("home")).content.decode()
    overlay_card = body[body.index(">OVL-HC<") :].split("</article>")[0]
    assert "50% credit" in overlay_card
    assert body.count("% credit") == 1  # the primary slot's card names no credit
