"""The rule builder's "move in / move out" is a dry run of the re-route a save starts: on the demo
company, what the preview says is what the re-route then moves. And a catch-all ("All accounts")
is saved active only after a confirmation that says what it takes."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from planning import demo
from routing import services as routing_services
from salesos.models import Account, GeoArea, Industry
from territories.models import AccountTerritory, Territory, TerritoryPlan
from tests import factories
from tests.territories.test_rule_builder import Builder

N = 1500
FORM = dict(credit_percent=100, lead_assignment="primary", description="")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        had_reference = GeoArea.objects.filter(level=GeoArea.Level.POSTAL).exists()
        if demo.demo_data_exists():
            demo.reset_demo_data()
        demo.seed_demo(accounts=N, seed=11, anchor=dt.date(2026, 5, 15))
    yield
    with django_db_blocker.unblock():
        demo.reset_demo_data()
        if not had_reference:
            GeoArea.objects.all()._raw_delete(GeoArea.objects.db)
            Industry.objects.all()._raw_delete(Industry.objects.db)


@pytest.fixture
def admin(seeded, db):
    # Each test's changes roll back, plan version included: drop compiled copies of them.
    routing_services._indexes.clear()
    c = Client()
    c.force_login(factories.make_user("admin"))
    return c


def primaries(plan: TerritoryPlan) -> dict[int, int]:
    return dict(AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True)
                .values_list("account_id", "territory_id"))


def figure(html: str, element_id: str) -> int:
    m = re.search(rf'id="{element_id}">([\d,]+)<', html)
    assert m, html[:3000]
    return int(m.group(1).replace(",", ""))


def moves(before: dict[int, int], after: dict[int, int], subtree: set[int]) -> tuple[int, int]:
    accounts = set(before) | set(after)
    moved_in = sum(1 for a in accounts if after.get(a) in subtree and before.get(a) not in subtree)
    moved_out = sum(1 for a in accounts if before.get(a) in subtree and after.get(a) not in subtree)
    return moved_in, moved_out


def save_and_reroute(client: Client, url: str, post: dict, capture) -> None:
    with capture(execute=True):
        r = client.post(url, post)
    assert r.status_code == 302, r.content.decode()[:3000]


def big_companies() -> Builder:
    b = Builder()
    root = b.group()
    b.cond(root, "employees", "gte", text="1000")
    return b


@pytest.mark.django_db
def test_new_territory_preview_equals_the_re_route(admin, django_capture_on_commit_callbacks):
    plan = TerritoryPlan.active()
    parent = Territory.objects.filter(plan=plan, parent=None, is_overlay=False).order_by("code").first()
    post = big_companies().post(plan=plan.pk, name="Big companies", type="hybrid", parent=parent.code,
                                priority=5, action="activate", **FORM)
    html = admin.post(reverse("territories:builder_preview"), post).content.decode()
    move_in, move_out = figure(html, "move-in"), figure(html, "move-out")
    before = primaries(plan)
    save_and_reroute(admin, reverse("territories:new"), post, django_capture_on_commit_callbacks)
    created = Territory.objects.get(plan=plan, name="Big companies")
    after = primaries(plan)
    assert (move_in, move_out) == moves(before, after, {created.pk})
    # Not a count of matches: some big companies stay where a named list or a lock holds them.
    big_under_parent = Account.objects.filter(employees__gte=1000, pk__in=[
        a for a, t in before.items()
        if t in set(parent.descendants(include_self=True).values_list("pk", flat=True))
    ]).count()
    assert 0 < move_in <= big_under_parent


@pytest.mark.django_db
def test_edit_preview_equals_the_re_route(admin, django_capture_on_commit_callbacks):
    plan = TerritoryPlan.active()
    before = primaries(plan)
    # The busiest leaf that competes (not an overlay, not a named list).
    counts: dict[int, int] = {}
    for t in before.values():
        counts[t] = counts.get(t, 0) + 1
    leaves = Territory.objects.filter(plan=plan, is_overlay=False, children=None,
                                      type__in=["geographic", "industry", "size"])
    territory = max(leaves, key=lambda t: counts.get(t.pk, 0))
    b = Builder()
    root = b.group()
    b.cond(root, "employees", "lt", text="200")
    post = b.post(plan=plan.pk, territory=territory.pk, name=territory.name, code=territory.code, type="size",
                  parent=territory.parent.code, priority=territory.priority, action="save", **FORM)
    html = admin.post(reverse("territories:builder_preview"), post).content.decode()
    move_in, move_out, today = figure(html, "move-in"), figure(html, "move-out"), figure(html, "here-today")
    assert today == counts[territory.pk]
    save_and_reroute(admin, reverse("territories:edit", args=[territory.pk]), post,
                     django_capture_on_commit_callbacks)
    after = primaries(plan)
    assert (move_in, move_out) == moves(before, after, {territory.pk})
    assert move_out > 0


@pytest.mark.django_db
def test_catch_all_needs_a_confirmation_that_says_what_it_takes(admin, django_capture_on_commit_callbacks):
    plan = TerritoryPlan.active()
    before = primaries(plan)
    queue = Account.objects.exclude(pk__in=list(before)).count()
    by_hand = AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True, source="manual")
    assert queue > 0
    b = Builder()
    b.group()
    post = b.post(plan=plan.pk, name="Everything else", type="geographic", parent="", priority=-100,
                  action="activate", **FORM)
    html = admin.post(reverse("territories:builder_preview"), post).content.decode()
    total = figure(html, "catch-all-total")
    assert "No conditions: this territory takes every account no other territory claims" in html
    assert f"{queue:,} from the unassigned queue" in html
    # Saving without the confirmation saves nothing and says what it would take.
    r = admin.post(reverse("territories:new"), post)
    body = r.content.decode()
    assert r.status_code == 422 and not Territory.objects.filter(plan=plan, name="Everything else").exists()
    assert f"Once active it takes <strong>{total:,}</strong> account" in body and 'name="confirm_catch_all"' in body
    assert f"{queue:,} from the unassigned queue and {by_hand.count():,} routed by hand" in body
    save_and_reroute(admin, reverse("territories:new"), {**post, "confirm_catch_all": ["yes"]},
                     django_capture_on_commit_callbacks)
    created = Territory.objects.get(plan=plan, name="Everything else")
    assert moves(before, primaries(plan), {created.pk}) == (total, 0)
    # A draft catch-all routes nothing, so it needs no confirmation.
    r = admin.post(reverse("territories:new"), {**post, "name": ["Draft catch-all"], "action": ["draft"]})
    assert r.status_code == 302


@pytest.mark.django_db
def test_a_wide_scope_read_in_one_pass_gives_the_same_moves(admin, monkeypatch):
    from routing import preview

    plan = TerritoryPlan.active()
    draft = preview.TerritoryDraft(pk=None, code="ZZ-REST", parent_id=None, type="geographic", priority=-100, rule={})

    def outcome():
        dry = preview.territory_change_preview(plan=plan, draft=draft)
        order = dry.account_ids.argsort()
        return (dry.account_ids[order].tolist(), dry.before[order].tolist(), dry.after[order].tolist(),
                dry.by_hand[order].tolist(), dry.moving_in_from_queue(), dry.moving_in_by_hand())

    monkeypatch.setattr(preview, "WHOLE_TABLE_FROM", 10**9)
    by_ids = outcome()
    monkeypatch.setattr(preview, "WHOLE_TABLE_FROM", 0)
    assert outcome() == by_ids and len(by_ids[0]) == Account.objects.count()
