"""The territory tree, the filtered list, the territory page and moving a subtree."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from planning.models import Quota
from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from territories.models import RepAssignment, Territory
from territories.tree import TreeFilters, plan_tree, territory_list_page
from tests import factories

Role = SalesProfile.Role
pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}
# The same ceiling at every data size (session, user, profile and the unread-notification count included).
TREE_MAX_QUERIES = 13  # with the approvals badge
# +1 since the page carries the rep-assignment form (its list of people); +4 since each listed
# account's owner is its territory's owner today (territories.placement: the accounts' current primary
# rows, the territories' primary/backup assignments, who is on leave, the owners).
DETAIL_MAX_QUERIES = 27  # with the approvals badge


def build(*, leaves_per_region: int = 2, accounts_per_leaf: int = 2):
    fy = factories.make_fiscal_year("FY2026", start=dt.date(2026, 2, 1))
    plan = factories.make_plan(name="Tree plan", fiscal_year=fy)
    draft = factories.make_plan(name="Tree draft", status="draft")
    admin = factories.make_user(Role.ADMIN, username="ops")
    director = factories.make_user(Role.DIRECTOR, username="dina")
    manager = factories.make_user(Role.MANAGER, username="mani", manager=director)
    rep = factories.make_user(Role.REP, username="reggie", manager=manager)
    other = factories.make_user(Role.REP, username="otto")
    root = factories.make_territory(plan, code="ROOT", name="Everything")
    r1 = factories.make_territory(plan, code="R1", name="Region one", parent=root)
    r2 = factories.make_territory(plan, code="R2", name="Region two", parent=root, type="industry")
    leaves = []
    for region in (r1, r2):
        for i in range(leaves_per_region):
            leaves.append(factories.make_territory(plan, code=f"{region.code}-L{i:03d}", name=f"Leaf {region.code} {i}",
                                                   parent=region, type="hybrid" if i % 2 else "geographic"))
    factories.make_territory(draft, code="DRAFT-ROOT", name="Draft root")
    factories.assign(r1, director)
    factories.assign(leaves[0], rep)
    factories.assign(leaves[1], rep, slot=RepAssignment.Slot.BACKUP)
    factories.assign(leaves[-1], other)
    periods = list(fy.periods.all())
    for n, t in enumerate([r1, *leaves]):
        for k in range(accounts_per_leaf):
            account = factories.make_account(name=f"Acme {t.code} {k}", territory=t,
                                             state="US-CA" if k % 2 else "US-OR",
                                             industry_code="6211" if k % 2 else "5112")
            factories.make_opportunity(account, amount=Decimal(1000 * (n + 1)))
        for period in periods:
            Quota.objects.create(territory=t, period=period, amount=Decimal(100 * (n + 1)))
    grants_rebuild()
    return dict(plan=plan, draft=draft, admin=admin, director=director, manager=manager, rep=rep, other=other,
                root=root, r1=r1, r2=r2, leaves=leaves)


@pytest.fixture
def w():
    return build()


def body_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- roll-ups --------------------------------------------------------------------------------


def test_rollups_add_up_over_the_whole_subtree(w):
    tree = plan_tree(user=w["admin"], plan=w["plan"])
    for node in tree.nodes.values():
        kids = [tree.nodes[c] for c in node.children]
        assert node.accounts == node.own_accounts + sum(k.accounts for k in kids)
        assert node.pipeline == node.own_pipeline + sum(k.pipeline for k in kids)
        assert node.quota == node.own_quota + sum(k.quota for k in kids)
    root = tree.nodes[w["root"].pk]
    assert root.accounts == 2 * 5  # R1 itself and four leaves, two accounts each
    assert root.own_accounts == 0
    r1 = tree.nodes[w["r1"].pk]
    assert r1.own_accounts == 2 and r1.accounts == 6
    assert r1.own_quota == 4 * 100  # four quarters of the current fiscal year
    assert r1.own_pipeline == Decimal(2000)
    assert r1.primary and not r1.vacant
    assert tree.nodes[w["r2"].pk].vacant


def test_tree_page_shows_rollups_and_opens_short_levels(client, w):
    client.force_login(w["admin"])
    body = body_of(client.get(reverse("territories:index")))
    assert ">ROOT<" in body and ">R1<" in body and ">R2<" in body  # ROOT opened one level down
    assert "R1-L000" not in body  # deeper levels load on demand
    assert 'data-depth="1"' in body and "Vacant" in body
    assert f'hx-get="{reverse("territories:children", args=[w["r1"].pk])}?indent=2"' in body
    assert f'href="{reverse("territories:index")}?node={w["r1"].pk}"' in body  # works without JS


def test_children_partial_and_no_js_drilldown(client, w):
    client.force_login(w["admin"])
    url = reverse("territories:children", args=[w["r1"].pk])
    partial = body_of(client.get(url, {"indent": 2}, headers={"HX-Request": "true"}))
    assert "<html" not in partial and "R1-L000" in partial and "R1-L001" in partial and "R2-L000" not in partial
    assert f'data-ancestors="{w["root"].pk} {w["r1"].pk}"' in partial
    assert client.get(url).status_code == 302  # without htmx: the tree focused on that node
    page = body_of(client.get(reverse("territories:index"), {"node": w["r1"].pk}))
    assert "R1-L000" in page and "breadcrumb" in page and ">R2<" not in page


def test_rep_only_sees_their_own_territories(client, w):
    client.force_login(w["rep"])
    body = body_of(client.get(reverse("territories:index")))
    assert "R1-L000" in body and "R1-L001" in body  # primary and backup
    for code in ("ROOT", ">R1<", ">R2<", "R2-L001"):
        assert code not in body
    assert client.get(reverse("territories:children", args=[w["r1"].pk]), headers=HX).status_code == 404
    assert client.get(reverse("territories:index"), {"node": w["r1"].pk}).status_code == 404
    assert client.get(reverse("territories:detail", args=[w["leaves"][-1].pk])).status_code == 404
    assert client.get(reverse("territories:detail", args=[w["leaves"][0].pk])).status_code == 200


def test_director_sees_their_region_only(client, w):
    client.force_login(w["director"])
    body = body_of(client.get(reverse("territories:index")))
    assert ">R1<" in body and "R1-L000" in body
    assert ">R2<" not in body and ">ROOT<" not in body


def test_plan_selector_for_admins_and_directors_only(client, w):
    client.force_login(w["director"])
    body = body_of(client.get(reverse("territories:index"), {"plan": w["draft"].pk}))
    assert 'id="plan-select"' in body and "Tree draft" in body
    client.force_login(w["admin"])
    assert "DRAFT-ROOT" in body_of(client.get(reverse("territories:index"), {"plan": w["draft"].pk}))
    client.force_login(w["manager"])
    assert client.get(reverse("territories:index"), {"plan": w["draft"].pk}).status_code == 404
    assert 'id="plan-select"' not in body_of(client.get(reverse("territories:index")))
    assert client.get(reverse("territories:index"), {"plan": "nope"}).status_code == 404


# --- search and filters ----------------------------------------------------------------------


def codes(body: str) -> set[str]:
    return set(re.findall(r'<span class="code me-1">([^<]+)</span>', body))


def test_search_switches_to_a_flat_list_with_paths(client, w):
    client.force_login(w["admin"])
    body = body_of(client.get(reverse("territories:index"), {"q": "l001"}))
    assert codes(body) == {"R1-L001", "R2-L001"}
    assert "ROOT › R1" in body and "2 matching territories" in body
    assert codes(body_of(client.get(reverse("territories:index"), {"q": "region two"}))) == {"R2"}
    partial = body_of(client.get(reverse("territories:index"), {"q": "l001"}, headers={"HX-Request": "true"}))
    assert "<html" not in partial and 'id="territory-results"' in partial


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"type": "industry"}, {"R2"}),
        ({"type": "hybrid"}, {"R1-L001", "R2-L001"}),
        ({"level": "2"}, {"R1", "R2"}),
        ({"level": "3", "vacant": "1"}, {"R1-L001", "R2-L000"}),
        ({"vacant": "1", "type": "geographic"}, {"ROOT", "R2-L000"}),
        ({"rep": "REP"}, {"R1-L000", "R1-L001"}),
        ({"type": "not-a-type", "q": "ROOT"}, {"ROOT"}),
    ],
)
def test_filters(client, w, params, expected):
    params = {k: (w["rep"].pk if v == "REP" else v) for k, v in params.items()}
    client.force_login(w["admin"])
    assert codes(body_of(client.get(reverse("territories:index"), params))) == expected


def test_filters_respect_visibility(w):
    tree = plan_tree(user=w["rep"], plan=w["plan"])
    page = territory_list_page(tree, TreeFilters(type="geographic"))
    assert {n.code for n in page} == {"R1-L000"}


def test_list_paginates_by_100(client, db):
    w = build(leaves_per_region=120, accounts_per_leaf=0)
    client.force_login(w["admin"])
    first = body_of(client.get(reverse("territories:index"), {"q": "-L"}))
    assert len(codes(first)) == 100 and "Page 1 of 3" in first
    last = body_of(client.get(reverse("territories:index"), {"q": "-L", "page": 3}))
    assert len(codes(last)) == 40


# --- bounded queries -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 40])
@pytest.mark.parametrize("who", ["admin", "director", "rep"])
def test_tree_and_list_queries_are_bounded(client, db, size, who, django_assert_max_num_queries):
    w = build(leaves_per_region=size, accounts_per_leaf=3)
    client.force_login(w[who])
    url = reverse("territories:index")
    node = w["leaves"][0] if who == "rep" else w["r1"]
    for params in ({}, {"q": "L0"}, {"level": "3", "vacant": "1"}, {"node": node.pk}):
        with django_assert_max_num_queries(TREE_MAX_QUERIES):
            assert client.get(url, params).status_code == 200
    with django_assert_max_num_queries(TREE_MAX_QUERIES):
        assert client.get(reverse("territories:children", args=[node.pk]), headers=HX).status_code == 200


@pytest.mark.parametrize("size", [2, 40])
def test_detail_queries_are_bounded(client, db, size, django_assert_max_num_queries):
    w = build(leaves_per_region=size, accounts_per_leaf=3)
    client.force_login(w["director"])
    with django_assert_max_num_queries(DETAIL_MAX_QUERIES):
        assert client.get(reverse("territories:detail", args=[w["r1"].pk])).status_code == 200


# --- the territory page ----------------------------------------------------------------------


def test_detail_page_shows_rule_reps_accounts_deals_children_history(client, w):
    from territories.services import territory_update

    r1 = w["r1"]
    territory_update(territory=r1, data={"name": "Region one (west)", "priority": 5}, by=w["admin"])
    factories.assign(r1, w["manager"], slot=RepAssignment.Slot.OVERLAY, split_percent=30)
    factories.make_leave(w["director"])
    client.force_login(w["director"])
    body = body_of(client.get(reverse("territories:detail", args=[r1.pk])))
    assert "Region one (west)" in body and "All accounts" in body  # no rule of its own
    assert "On leave" in body and "30%" in body and "Overlay" in body
    assert "Acme R1 0" in body and "R1-L000" in body
    assert "$2,000" in body  # the top open deal
    assert "History" in body and "Region one" in body and "→" in body and "Ops" in body
    assert 'aria-current="page">R1<' in body
    # accounts filter by name, state, industry; htmx answers the partial only
    partial = body_of(client.get(reverse("territories:detail", args=[r1.pk]),
                                 {"part": "accounts", "state": "US-CA"}, headers={"HX-Request": "true"}))
    assert "<html" not in partial and "Acme R1 1" in partial and "Acme R1 0" not in partial
    body = body_of(client.get(reverse("territories:detail", args=[r1.pk]), {"industry": "62"}))
    accounts = body.split('id="territory-accounts"')[1].split("</section>")[0]
    assert "Acme R1 1" in accounts and "Acme R1 0" not in accounts
    assert "Dina Tester" in accounts  # each account's owner: its territory's owner today


def test_history_lists_changed_fields_newest_first(client, w):
    from territories.services import territory_update

    leaf = w["leaves"][0]
    territory_update(territory=leaf, data={"priority": 7}, by=w["admin"])
    territory_update(territory=leaf, data={"status": "inactive"}, by=w["admin"])
    client.force_login(w["admin"])
    body = body_of(client.get(reverse("territories:detail", args=[leaf.pk])))
    history = body.split('id="history-title"')[1]
    assert history.index("Status") < history.index("Priority")
    assert re.search(r"<del>0</del> → 7", history)
    assert re.search(r"<del>Active|<del>active", history)


# --- moving a subtree ------------------------------------------------------------------------


def test_admin_moves_a_subtree(client, w):
    client.force_login(w["admin"])
    r2 = w["r2"]
    response = client.post(reverse("territories:move", args=[r2.pk]), {"parent_code": "R1"})
    assert response.status_code == 302 and response["Location"] == reverse("territories:detail", args=[r2.pk])
    r2.refresh_from_db()
    assert r2.parent_id == w["r1"].pk
    # the director who leads R1 now leads R2 and its leaves too
    client.force_login(w["director"])
    assert client.get(reverse("territories:detail", args=[w["leaves"][-1].pk])).status_code == 200


def test_move_into_own_subtree_is_refused_and_changes_nothing(client, w):
    client.force_login(w["admin"])
    r1 = w["r1"]
    response = client.post(reverse("territories:move", args=[r1.pk]), {"parent_code": "R1-L000"})
    assert response.status_code == 400
    assert "is-invalid" in response.content.decode()
    r1.refresh_from_db()
    assert r1.parent_id == w["root"].pk
    response = client.post(reverse("territories:move", args=[r1.pk]), {"parent_code": "NOPE"})
    assert response.status_code == 400 and "No territory with code NOPE" in response.content.decode()


def test_move_to_top_level_and_candidate_search(client, w):
    client.force_login(w["admin"])
    r1 = w["r1"]
    partial = body_of(client.get(reverse("territories:detail", args=[r1.pk]), {"part": "move", "move_q": "L0"},
                                 headers={"HX-Request": "true"}))
    assert "R2-L000" in partial and "R1-L000" not in partial  # its own subtree is not offered
    assert client.post(reverse("territories:move", args=[r1.pk]), {"parent_code": ""}).status_code == 302
    r1.refresh_from_db()
    assert r1.parent_id is None


@pytest.mark.parametrize("who", ["director", "manager", "rep"])
def test_only_admins_may_move(client, w, who):
    client.force_login(w[who])
    target = w["leaves"][0]
    assert client.post(reverse("territories:move", args=[target.pk]), {"parent_code": "R2"}).status_code == 404
    assert client.post(reverse("territories:move", args=[999999]), {"parent_code": "R2"}).status_code == 404
    target.refresh_from_db()
    assert target.parent_id == w["r1"].pk
    body = body_of(client.get(reverse("territories:detail", args=[target.pk])))
    assert "Move this territory" not in body


def test_move_is_post_only(client, w):
    client.force_login(w["admin"])
    assert client.get(reverse("territories:move", args=[w["r1"].pk])).status_code == 405
    assert Territory.objects.get(pk=w["r1"].pk).parent_id == w["root"].pk
