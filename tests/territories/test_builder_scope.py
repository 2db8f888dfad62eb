"""The rule builder's endpoints answer only within the user's scope: previews (counts, samples),
option lists and chips cover the accounts, territories and plans the user may see, and a preview
is bounded by a parent the user may edit (an empty parent is for admins only)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from territories.models import Territory
from tests import factories
from tests.territories.test_rule_builder import Builder

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role
SECRET = "Hidden Zebra Co"  # an account only admins may see


@dataclass
class World:
    plan: object
    draft: object
    users: dict
    amer: Territory
    west: Territory
    emea: Territory
    hidden_id: int


@pytest.fixture
def world() -> World:
    plan = factories.make_plan(name="Live")
    draft = factories.make_plan(name="Next year", status="draft")
    make = factories.make_user
    director = make(Role.DIRECTOR, username="s_dir")
    manager = make(Role.MANAGER, username="s_mgr", manager=director)
    amer = factories.make_territory(plan, code="AMER", name="Americas",
                                    rule={"field": "region", "op": "eq", "value": "AMER"})
    west = factories.make_territory(plan, code="US-W", name="US West", parent=amer,
                                    rule={"field": "state", "op": "in", "value": ["US-CA"]})
    emea = factories.make_territory(plan, code="EMEA", name="Europe",
                                    rule={"field": "region", "op": "eq", "value": "EMEA"})
    emea_named = factories.make_territory(plan, code="EMEA-KEY", name="Europe key accounts", parent=emea,
                                          type=Territory.Type.NAMED_ACCOUNT)
    factories.make_territory(draft, code="DRAFT-SECRET", name="Draft secret")
    factories.assign(amer, director)
    factories.assign(west, manager)
    factories.assign(emea, make(Role.DIRECTOR, username="s_dir_emea"))
    factories.make_account(name="Visible West Co", territory=west)
    # In California and the Americas by its facts, but held by Europe's named list: only admins
    # see it, though it matches every rule in the AMER subtree.
    hidden = factories.make_account(name=SECRET, territory=emea_named)
    emea_named.named_accounts.add(hidden)
    grants_rebuild()
    users = {"admin": make(Role.ADMIN, username="s_admin"), "director": director, "manager": manager}
    return World(plan=plan, draft=draft, users=users, amer=amer, west=west, emea=emea, hidden_id=hidden.pk)


def client_for(world: World, role: str) -> Client:
    c = Client()
    c.force_login(world.users[role])
    return c


def name_prefix(prefix: str) -> Builder:
    b = Builder()
    root = b.group()
    b.cond(root, "name", "prefix", values=[prefix])
    return b


def preview(c: Client, world: World, **post) -> str:
    r = c.post(reverse("territories:builder_preview"), name_prefix("Hidden").post(plan=world.plan.pk, **post))
    assert r.status_code == 200
    return r.content.decode()


def test_admin_preview_counts_the_account(world):
    html = preview(client_for(world, "admin"), world, parent="", type="geographic")
    assert 'data-count="1"' in html and SECRET in html


@pytest.mark.parametrize("parent", ["", "EMEA", "NOPE"])
def test_director_must_pick_a_parent_they_lead(world, parent):
    """An empty, foreign or unknown parent: no count at all, the same answer for each."""
    html = preview(client_for(world, "director"), world, parent=parent, type="geographic")
    assert "Pick a parent territory inside the part of the tree you lead" in html
    assert "data-count" not in html and SECRET not in html


@pytest.mark.parametrize("role", ["director", "manager"])
def test_preview_counts_and_samples_only_what_the_user_sees(world, role):
    c = client_for(world, role)
    # A director creating under the subtree they lead.
    if role == "director":
        html = preview(c, world, parent="AMER", type="geographic")
        assert 'data-count="0"' in html and SECRET not in html
    # Editing their own territory, with the parent emptied by hand: the stored parent still
    # bounds the preview, and the count leaves out what they cannot see.
    html = preview(c, world, territory=world.west.pk, parent="", type="geographic")
    assert 'data-count="0"' in html and SECRET not in html
    assert 'id="move-in">0<' in html
    assert "Counts cover the accounts you can see" in html
    html = c.post(reverse("territories:builder_preview"),
                  name_prefix("Visible").post(plan=world.plan.pk, territory=world.west.pk, type="geographic"))
    assert 'data-count="1"' in html.content.decode() and "Visible West Co" in html.content.decode()


def test_preview_in_another_plan_is_bounded_the_same_way(world):
    director = client_for(world, "director")
    r = director.post(reverse("territories:builder_preview"),
                      name_prefix("Hidden").post(plan=world.draft.pk, parent="DRAFT-SECRET"))
    assert r.status_code == 200 and "Pick a parent territory" in r.content.decode()
    # A manager edits only their own territory, which decides the plan, whatever plan is posted.
    manager = client_for(world, "manager")
    r = manager.post(reverse("territories:builder_preview"),
                     name_prefix("Hidden").post(plan=world.draft.pk, territory=world.west.pk))
    assert r.status_code == 200 and 'data-count="0"' in r.content.decode()
    assert manager.post(reverse("territories:builder_preview"),
                        name_prefix("Hidden").post(plan=world.draft.pk)).status_code == 404


def options(c: Client, **params) -> str:
    r = c.get(reverse("territories:builder_options"), params)
    assert r.status_code == 200
    return r.content.decode()


def test_parent_options_list_only_territories_the_user_may_add_under(world):
    admin, director, manager = (client_for(world, r) for r in ("admin", "director", "manager"))
    everything = options(admin, kind="parent", plan=world.plan.pk, q="")
    assert all(code in everything for code in ("AMER", "US-W", "EMEA", "EMEA-KEY"))
    led = options(director, kind="parent", plan=world.plan.pk, q="")
    assert "AMER" in led and "US-W" in led and "EMEA" not in led and "Europe" not in led
    assert options(director, kind="parent", plan=world.plan.pk, q="eu") == ""
    assert options(manager, kind="parent", plan=world.plan.pk, q="") == ""
    assert "DRAFT-SECRET" in options(admin, kind="parent", plan=world.draft.pk, q="")
    for c in (director, manager):
        assert "DRAFT-SECRET" not in options(c, kind="parent", plan=world.draft.pk, q="")


@pytest.mark.parametrize("kind", ["named", "account"])
def test_account_options_and_chips_cover_only_visible_accounts(world, kind):
    assert SECRET in options(client_for(world, "admin"), kind=kind, **{"named-q": "zebra"})
    for role in ("director", "manager"):
        c = client_for(world, role)
        assert SECRET not in options(c, kind=kind, **{"named-q": "zebra"})
        assert "Visible West Co" in options(c, kind=kind, **{"named-q": "visible"})
        r = c.get(reverse("territories:builder_chip"), {"kind": "named", "name": "named", "named-q": SECRET})
        assert r["HX-Reswap"] == "none" and f'value="{world.hidden_id}"' not in r.content.decode()


def test_a_manager_saving_their_territory_keeps_its_parent(world):
    """The parent input is disabled for managers and posts nothing: the save must not read that
    as "move to the top level", which would drop the parent's rule from the territory's scope."""
    b = Builder()
    root = b.group()
    b.cond(root, "employees", "gte", text="50")
    post = b.post(plan=world.plan.pk, territory=world.west.pk, name="US West", code="US-W", type="size",
                  priority=0, credit_percent=100, lead_assignment="primary", action="save")
    r = client_for(world, "manager").post(reverse("territories:edit", args=[world.west.pk]), post)
    assert r.status_code == 302, r.content.decode()[:2000]
    world.west.refresh_from_db()
    assert world.west.parent == world.amer and world.west.rule == {"all": [{"field": "employees", "op": "gte",
                                                                            "value": 50}]}


def test_named_territory_rule_line_counts_its_list(world):
    named = Territory.objects.get(code="EMEA-KEY")
    html = client_for(world, "admin").get(reverse("territories:detail", args=[named.pk])).content.decode()
    assert "Named accounts: 1 listed" in html and "All accounts" not in html
    b = Builder()
    b.group()
    r = client_for(world, "admin").post(reverse("territories:builder_preview"),
                                        b.post(plan=world.plan.pk, type="named_account", named=[world.hidden_id]))
    assert "Named accounts: 1 listed" in r.content.decode()


def test_emptying_an_active_territorys_rule_asks_for_the_confirmation(world):
    assert world.west.status == Territory.Status.ACTIVE
    b = Builder()
    b.group()
    post = b.post(plan=world.plan.pk, territory=world.west.pk, name="US West", code="US-W", type="geographic",
                  parent="AMER", priority=0, credit_percent=100, lead_assignment="primary", action="save")
    admin = client_for(world, "admin")
    r = admin.post(reverse("territories:edit", args=[world.west.pk]), post)
    assert r.status_code == 422 and 'name="confirm_catch_all"' in r.content.decode()
    world.west.refresh_from_db()
    assert world.west.rule == {"field": "state", "op": "in", "value": ["US-CA"]}
    r = admin.post(reverse("territories:edit", args=[world.west.pk]), {**post, "confirm_catch_all": ["yes"]})
    assert r.status_code == 302
    world.west.refresh_from_db()
    assert world.west.rule == {}
    # Already a catch-all: saving it again asks nothing.
    assert admin.post(reverse("territories:edit", args=[world.west.pk]), post).status_code == 302


def test_visible_moves_are_counted_in_bounded_id_lists(world, monkeypatch):
    from routing import builder_preview as preview

    c = client_for(world, "manager")
    b = Builder()
    root = b.group()
    b.cond(root, "employees", "gte", text="1")
    post = b.post(plan=world.plan.pk, territory=world.west.pk, type="size")
    whole = c.post(reverse("territories:builder_preview"), post).content.decode()
    monkeypatch.setattr(preview, "ID_CHUNK", 1)
    chunked = c.post(reverse("territories:builder_preview"), post).content.decode()
    assert 'id="here-today">1<' in whole
    for element in ("move-in", "move-out", "here-today"):
        assert re.search(rf'id="{element}">(\d+)<', whole).group(1) == re.search(
            rf'id="{element}">(\d+)<', chunked).group(1)
