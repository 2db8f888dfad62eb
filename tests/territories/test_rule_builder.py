"""The territory form and its HTMX rule builder: encoding, row swaps, validation beside the row,
preview counts, permissions."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from routing.sql import rule_to_q
from salesos.models import Account, GeoArea, Industry
from territories.builder import codec as tf
from territories.models import AccountTerritory, RepAssignment, Territory
from tests import factories

pytestmark = pytest.mark.django_db


class Builder:
    """Builds builder posts the way the page does: one id per node, parents by id."""

    def __init__(self):
        self.data: list[tuple[str, str]] = []
        self.n = 0

    def group(self, parent: str = "", join: str = "all") -> str:
        self.n += 1
        gid = f"g{self.n}"
        self.data += [("node", gid), (f"n-{gid}-parent", parent), (f"n-{gid}-kind", "group"), (f"n-{gid}-join", join)]
        return gid

    def cond(self, parent: str, field: str, op: str, text: str = "", values=(), lo: str = "", hi: str = "") -> str:
        self.n += 1
        cid = f"c{self.n}"
        self.data += [("node", cid), (f"n-{cid}-parent", parent), (f"n-{cid}-kind", "cond"),
                      (f"n-{cid}-field", field), (f"n-{cid}-op", op), (f"n-{cid}-text", text),
                      (f"n-{cid}-lo", lo), (f"n-{cid}-hi", hi)]
        self.data += [(f"n-{cid}-v", v) for v in values]
        return cid

    def post(self, **extra) -> dict:
        out: dict[str, list[str]] = {}
        extras = [(k, v) for k, vs in extra.items() for v in (vs if isinstance(vs, list) else [vs])]
        for k, v in [*self.data, *extras]:
            out.setdefault(k, []).append(str(v))
        return out


def hybrid_builder() -> Builder:
    b = Builder()
    root = b.group()
    b.cond(root, "industry", "in", values=["62"])
    b.cond(root, "employees", "gte", text="500")
    any_ = b.group(root, "any")
    b.cond(any_, "state", "in", values=["US-CA", "us-or"])
    b.cond(any_, "metro", "eq", text="Denver")
    return b


HYBRID = {"all": [
    {"field": "industry", "op": "in", "value": ["62"]},
    {"field": "employees", "op": "gte", "value": 500},
    {"any": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]},
             {"field": "metro", "op": "eq", "value": "Denver"}]},
]}


def querydict(data: dict):
    from django.http import QueryDict

    q = QueryDict(mutable=True)
    for k, vs in data.items():
        q.setlist(k, vs)
    return q


@pytest.fixture
def admin():
    return factories.make_user("admin")


@pytest.fixture
def plan():
    return factories.make_plan()


@pytest.fixture
def client_admin(admin):
    c = Client()
    c.force_login(admin)
    return c


# --- encoding ----------------------------------------------------------------------------------


def test_posted_tree_parses_to_the_rule():
    parsed = tf.parse_rule(querydict(hybrid_builder().post()))
    assert parsed.problem_count == 0
    assert parsed.rule == HYBRID


def test_stored_rule_round_trips_through_the_builder():
    tree = tf.tree_from_rule(HYBRID)
    b = Builder()

    def emit(node, parent=""):
        b.data += [("node", node.id), (f"n-{node.id}-parent", parent), (f"n-{node.id}-kind", node.kind),
                   (f"n-{node.id}-join", node.join), (f"n-{node.id}-field", node.field), (f"n-{node.id}-op", node.op),
                   (f"n-{node.id}-text", node.text), (f"n-{node.id}-lo", node.lo), (f"n-{node.id}-hi", node.hi)]
        b.data += [(f"n-{node.id}-v", v) for v in node.values]
        for child in node.children:
            emit(child, node.id)

    emit(tree)
    assert tf.parse_rule(querydict(b.post())).rule == HYBRID


def test_blank_rows_are_ignored_and_money_units_understood():
    b = Builder()
    root = b.group()
    b.cond(root, "", "")
    b.cond(root, "annual_revenue", "gt", text="$10M")
    b.cond(root, "annual_revenue", "between", lo="2.5k", hi="1,000,000")
    parsed = tf.parse_rule(querydict(b.post()))
    assert parsed.rule == {"all": [{"field": "annual_revenue", "op": "gt", "value": 10_000_000},
                                   {"field": "annual_revenue", "op": "between", "value": [2500, 1_000_000]}]}


def test_errors_land_on_their_row():
    b = Builder()
    root = b.group()
    ok = b.cond(root, "employees", "gte", text="500")
    any_ = b.group(root, "any")
    bad_state = b.cond(any_, "state", "in", values=["California"])
    no_value = b.cond(any_, "employees", "lt", text="")
    parsed = tf.parse_rule(querydict(b.post()))
    assert parsed.rule is None and parsed.problem_count == 2
    nodes = {n.id: n for n in parsed.tree.walk()}
    assert nodes[ok].errors == []
    assert "ISO 3166-2" in nodes[bad_state].errors[0]
    assert nodes[no_value].errors and nodes[any_].errors == []


def test_empty_nested_any_group_is_reported_on_the_group():
    b = Builder()
    root = b.group()
    b.cond(root, "country", "eq", text="US")
    empty = b.group(root, "any")
    parsed = tf.parse_rule(querydict(b.post()))
    assert {n.id: n for n in parsed.tree.walk()}[empty].errors == ["An 'any' group needs at least one condition"]


def test_two_hundred_postal_codes_in_one_textarea():
    codes = [f"{94000 + i}" for i in range(200)]
    pasted = ", ".join(codes[:100]) + "\n" + " ".join(codes[100:]) + "\n94000, 94001"  # duplicates
    b = Builder()
    root = b.group()
    cid = b.cond(root, "postal_code", "in", text=pasted)
    parsed = tf.parse_rule(querydict(b.post()))
    assert parsed.rule == {"all": [{"field": "postal_code", "op": "in", "value": codes}]}
    node = {n.id: n for n in parsed.tree.walk()}[cid]
    assert node.widget == "bulk" and node.bulk_count == 200
    b2 = Builder()
    root = b2.group()
    bad = b2.cond(root, "postal_code", "prefix", text="941 94$07 ok-1 ")
    parsed = tf.parse_rule(querydict(b2.post()))
    assert parsed.rule is None
    assert "“94$07”" in {n.id: n for n in parsed.tree.walk()}[bad].errors[0]


def test_tree_from_post_survives_garbage():
    data = querydict({"node": ["a", "b", "../x"], "n-a-kind": ["group"], "n-a-parent": ["b"],
                      "n-b-kind": ["group"], "n-b-parent": ["a"]})
    parsed = tf.parse_rule(data)
    assert parsed.rule == {}


# --- endpoints ---------------------------------------------------------------------------------


def test_field_change_swaps_operators_and_widget(client_admin):
    url = reverse("territories:builder_cond")
    r = client_admin.get(url, {"id": "x1", "n-x1-field": "employees", "n-x1-built": "", "n-x1-parent": "g"})
    html = r.content.decode()
    assert r.status_code == 200 and r["HX-Trigger"] == "rb-changed"
    ops = re.findall(r'<option value="(\w+)"[^>]*>', html.split('name="n-x1-op"')[1].split("</select>")[0])
    assert "between" in ops and "prefix" not in ops
    assert 'value="gte" selected' in html and "employees</span>" in html and 'type="number"' in html
    r = client_admin.get(url, {"id": "x1", "n-x1-field": "state", "n-x1-built": "employees", "n-x1-op": "gte"})
    html = r.content.decode()
    ops = re.findall(r'<option value="(\w+)"', html.split('name="n-x1-op"')[1].split("</select>")[0])
    assert ops == ["eq", "ne", "in", "not_in", "is_empty"]
    assert "rb-chips" in html and "kind=state" in html  # the state picker with search
    r = client_admin.get(url, {"id": "x1", "n-x1-field": "postal_code", "n-x1-built": "state", "n-x1-op": "in"})
    assert "<textarea" in r.content.decode() and "rb-bulk" in r.content.decode()
    r = client_admin.get(url, {"id": "x1", "n-x1-field": "annual_revenue", "n-x1-built": "postal_code"})
    assert '<span class="input-group-text">$</span>' in r.content.decode()


def test_operator_change_keeps_values(client_admin):
    url = reverse("territories:builder_cond")
    r = client_admin.get(url, {"id": "x1", "n-x1-field": "state", "n-x1-built": "state", "n-x1-op": "not_in",
                               "n-x1-v": ["US-CA", "US-OR"]})
    html = r.content.decode()
    assert 'value="not_in" selected' in html and html.count('name="n-x1-v"') == 2


def test_add_row_and_group(client_admin):
    r = client_admin.get(reverse("territories:builder_cond"), {"parent": "g1"})
    html = r.content.decode()
    assert 'name="n-' in html and 'value="g1"' in html and "autofocus" in html
    r = client_admin.get(reverse("territories:builder_group"), {"parent": "g1"})
    html = r.content.decode()
    assert html.count('value="group"') == 1 and html.count('value="cond"') == 1
    assert 'value="any" selected' in html and "Remove group" in html


def test_options_and_chip_resolution(client_admin):
    GeoArea.objects.create(level="state", code="US-CA", name="California", country="US")
    GeoArea.objects.create(level="state", code="US-CO", name="Colorado", country="US")
    Industry.objects.create(scheme="naics", code="62", title="Health care and social assistance")
    r = client_admin.get(reverse("territories:builder_options"), {"kind": "state", "n-x-q": "cal"})
    assert r.content.decode().strip() == '<option value="US-CA">California</option>'
    r = client_admin.get(reverse("territories:builder_options"), {"kind": "industry", "n-x-q": "health"})
    assert 'value="62"' in r.content.decode()
    r = client_admin.get(reverse("territories:builder_chip"), {"kind": "state", "name": "n-x-v", "n-x-q": "colorado"})
    html = r.content.decode()
    assert 'name="n-x-v" value="US-CO"' in html and "Colorado" in html and r["HX-Trigger"] == "rb-changed"
    acc = factories.make_account(name="Acme Health")
    r = client_admin.get(reverse("territories:builder_chip"), {"kind": "named", "name": "named", "named-q": "acme"})
    assert f'name="named" value="{acc.pk}"' in r.content.decode()
    r = client_admin.get(reverse("territories:builder_chip"), {"kind": "named", "name": "named", "named-q": "zzz"})
    assert r["HX-Reswap"] == "none"


# --- preview -----------------------------------------------------------------------------------


def _accounts(plan):
    hc = Industry.objects.create(scheme="naics", code="62", title="Health care")
    parent = factories.make_territory(plan, code="US", rule={"field": "country", "op": "eq", "value": "US"})
    here = factories.make_territory(plan, code="HERE", parent=parent)
    rows = [
        # (industry, employees, state, metro, country, territory)
        (hc, 800, "US-CA", "", "US", here),      # match, already here
        (hc, 900, "US-OR", "", "US", None),      # match, moves in
        (hc, 600, "US-CO", "Denver", "US", None),  # match via metro
        (hc, 100, "US-CA", "", "US", here),      # too small: moves out
        (None, 900, "US-CA", "", "US", here),    # wrong industry: moves out
        (hc, 900, "DE-BY", "", "DE", None),      # fails the parent's rule
        (hc, None, "US-CA", "", "US", None),     # unknown size
    ]
    for i, (industry, employees, state, metro, country, territory) in enumerate(rows):
        factories.make_account(name=f"A{i}", industry=industry, employees=employees, state=state, metro=metro,
                               country=country, territory=territory)
    return parent, here


def test_preview_counts_match_a_hand_count(client_admin, plan, django_assert_max_num_queries):
    parent, here = _accounts(plan)
    post = hybrid_builder().post(plan=plan.pk, territory=here.pk, parent="US", type="hybrid")
    # +1 for where the sample's accounts sit now (their current primary rows); +7 for the dry run
    # of the re-route (the plan's spec, the scope, the accounts' columns and current rows).
    with django_assert_max_num_queries(22):
        r = client_admin.post(reverse("territories:builder_preview"), post)
    html = r.content.decode()
    assert 'data-count="3"' in html  # A0, A1, A2
    # Hand count against the ORM: rule AND parent rule; today = the current primary rows in HERE.
    rule = tf.parse_rule(querydict(post)).rule
    matched = Account.objects.filter(rule_to_q(rule) & rule_to_q(parent.rule))
    assert matched.count() == 3
    here_now = AccountTerritory.objects.filter(territory=here, is_primary=True, valid_to__isnull=True)
    today = Account.objects.filter(pk__in=here_now.values("account_id"))
    assert today.count() == 3
    move_in = matched.exclude(pk__in=today.values("pk")).count()
    move_out = today.exclude(pk__in=matched.values("pk")).count()
    assert (move_in, move_out) == (2, 2)
    assert re.search(r'id="move-in">2<', html) and re.search(r'id="move-out">2<', html)
    # The sample says where each matching account sits now: A0 here, A1 and A2 unassigned.
    assert html.count('status-active">here<') == 1 and html.count('badge-vacant">unassigned<') == 2


def test_preview_for_named_territory_counts_the_list(client_admin, plan):
    a, b = factories.make_account(), factories.make_account()
    post = Builder()
    post.group()
    r = client_admin.post(reverse("territories:builder_preview"),
                          post.post(plan=plan.pk, type="named_account", named=[a.pk, b.pk]))
    assert 'data-count="2"' in r.content.decode()


def test_preview_lists_problems(client_admin, plan):
    b = Builder()
    root = b.group()
    b.cond(root, "employees", "gte", text="lots")
    r = client_admin.post(reverse("territories:builder_preview"), b.post(plan=plan.pk))
    html = r.content.decode()
    assert "1 problem" in html and "whole number" in html


# --- pages -------------------------------------------------------------------------------------


def test_create_page_saves_and_activates(client_admin, plan, admin):
    rep, overlay = factories.make_user(), factories.make_user()
    parent = factories.make_territory(plan, code="AMER")
    r = client_admin.get(reverse("territories:new"))
    assert r.status_code == 200 and "Save and activate" in r.content.decode()
    post = hybrid_builder().post(plan=plan.pk, name="West Health", description="HC in the west", type="hybrid",
                                 parent="amer", priority=0, credit_percent=100, lead_assignment="primary",
                                 primary=rep.pk, overlay_0=overlay.pk, overlay_0_split=30, action="activate")
    r = client_admin.post(reverse("territories:new"), post)
    assert r.status_code == 302, r.content.decode()[:3000]
    t = Territory.objects.get(code="WEST-HEALTH")
    assert (t.status, t.parent, t.type, t.rule) == ("active", parent, "hybrid", HYBRID)
    assert t.history.latest().history_user == admin
    slots = dict(t.assignments.values_list("slot", "user_id"))
    assert slots == {RepAssignment.Slot.PRIMARY: rep.pk, RepAssignment.Slot.OVERLAY: overlay.pk}


def test_create_with_rule_error_rerenders_with_message_beside_row(client_admin, plan):
    b = Builder()
    root = b.group()
    bad = b.cond(root, "employees", "between", lo="500", hi="100")
    r = client_admin.post(reverse("territories:new"), b.post(plan=plan.pk, name="X", type="size", priority=0,
                                                            credit_percent=100, lead_assignment="primary",
                                                            action="draft"))
    html = r.content.decode()
    assert r.status_code == 422 and not Territory.objects.exists()
    row = html.split(f'id="rb-{bad}"')[1].split("</li>")[0]
    assert "greater than the high bound" in row and 'role="alert"' in row
    assert 'value="500"' in row and 'value="100"' in row  # what was typed survives


def test_edit_page_updates_rule_and_shows_it(client_admin, plan):
    t = factories.make_territory(plan, code="T1", rule={"field": "state", "op": "in", "value": ["US-CA"]})
    r = client_admin.get(reverse("territories:edit", args=[t.pk]))
    assert r.status_code == 200 and 'value="US-CA"' in r.content.decode()
    b = Builder()
    root = b.group()
    b.cond(root, "state", "in", values=["US-CA", "US-WA"])
    r = client_admin.post(reverse("territories:edit", args=[t.pk]),
                          b.post(plan=plan.pk, territory=t.pk, name="Renamed", type="geographic", code="T1",
                                 priority=1, credit_percent=100, lead_assignment="primary", action="save"))
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.name == "Renamed" and t.rule == {"all": [{"field": "state", "op": "in", "value": ["US-CA", "US-WA"]}]}


def test_delete_page_shows_impact_then_deletes(client_admin, plan):
    root = factories.make_territory(plan, code="R", name="Root")
    mid = factories.make_territory(plan, code="M", parent=root)
    kid = factories.make_territory(plan, code="K", parent=mid)
    # Named accounts of M: affected by the delete, without the ownership rows that would retire it.
    mid.named_accounts.add(factories.make_account(), factories.make_account())
    r = client_admin.get(reverse("territories:delete", args=[mid.pk]))
    html = r.content.decode()
    assert "2 accounts" in html and "Root" in html
    r = client_admin.post(reverse("territories:delete", args=[mid.pk]), {"children": "up", "confirm": "yes"})
    assert r.status_code == 302
    kid.refresh_from_db()
    assert kid.parent == root and not Territory.objects.filter(pk=mid.pk).exists()


@pytest.mark.parametrize("role", ["rep", "manager"])
def test_reps_and_managers_without_permission_get_404(plan, role):
    user = factories.make_user(role)
    t = factories.make_territory(plan)
    factories.assign(t, user)
    c = Client()
    c.force_login(user)
    assert c.get(reverse("territories:new")).status_code == 404
    assert c.get(reverse("territories:delete", args=[t.pk])).status_code == 404
    if role == "rep":
        assert c.get(reverse("territories:edit", args=[t.pk])).status_code == 404
        assert c.get(reverse("territories:builder_cond")).status_code == 404


def test_manager_with_object_permission_edits_rule_but_not_parent(plan):
    from guardian.shortcuts import assign_perm

    manager = factories.make_user("manager")
    t = factories.make_territory(plan, code="MINE")
    other = factories.make_territory(plan, code="OTHER")
    factories.assign(t, manager)
    assign_perm("territories.change_territory", manager, t)
    c = Client()
    c.force_login(manager)
    r = c.get(reverse("territories:edit", args=[t.pk]))
    assert r.status_code == 200 and "Only sales ops admins restructure" in r.content.decode()
    b = Builder()
    root = b.group()
    b.cond(root, "employees", "gte", text="50")
    r = c.post(reverse("territories:edit", args=[t.pk]),
               b.post(plan=plan.pk, territory=t.pk, name=t.name, type="size", code="MINE", priority=0, parent="OTHER",
                      credit_percent=100, lead_assignment="primary", action="save"))
    assert r.status_code == 302
    t.refresh_from_db()
    assert t.rule == {"all": [{"field": "employees", "op": "gte", "value": 50}]} and t.parent is None
    assert c.get(reverse("territories:edit", args=[other.pk])).status_code == 404
    assert c.get(reverse("territories:delete", args=[t.pk])).status_code == 404


def test_preview_of_a_parent_compares_with_its_whole_subtree(db):
    from routing.builder_preview import rule_preview
    from tests import factories

    plan = factories.make_plan()
    parent = factories.make_territory(plan, code="P", rule={"all": [{"field": "country", "op": "eq", "value": "US"}]})
    child = factories.make_territory(plan, code="C", parent=parent)
    for i in range(3):
        factories.make_account(name=f"In child {i}", country="US", territory=child)
    admin = factories.make_user("admin")
    out = rule_preview(user=admin, plan=plan, rule=parent.rule, parent=None, territory=parent,
                       territory_type="geographic", named_ids=[])
    assert (out["matched"], out["today"], out["move_in"], out["move_out"]) == (3, 3, 0, 0)
