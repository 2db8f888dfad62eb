"""The territory form and the rule builder refuse bad input with a message, never a 500:
amounts past the money range, ids past the database's integer range, rules at the node limit."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from territories.builder import codec as tf
from territories.models import Territory
from tests import factories
from tests.territories.test_rule_builder import Builder

pytestmark = pytest.mark.django_db

HUGE_ID = "99999999999999999999"  # past a 64-bit integer


@pytest.fixture
def plan():
    return factories.make_plan()


@pytest.fixture
def client_admin():
    c = Client()
    c.force_login(factories.make_user("admin"))
    return c


def revenue_rule(amount: str) -> Builder:
    b = Builder()
    root = b.group()
    b.cond(root, "annual_revenue", "gte", text=amount)
    return b


FORM = dict(type="size", priority=0, credit_percent=100, lead_assignment="primary", action="save")


def test_preview_of_a_huge_amount_says_it_is_out_of_range(client_admin, plan):
    r = client_admin.post(reverse("territories:builder_preview"), revenue_rule("1e30").post(plan=plan.pk))
    assert r.status_code == 200
    assert "must be below 100,000,000,000,000" in r.content.decode()


def test_new_and_edit_refuse_a_huge_amount(client_admin, plan):
    r = client_admin.post(reverse("territories:new"), revenue_rule("1e30").post(plan=plan.pk, name="Big", **FORM))
    assert r.status_code == 422 and "must be below 100,000,000,000,000" in r.content.decode()
    assert not Territory.objects.exists()
    t = factories.make_territory(plan, code="T1", rule={"field": "employees", "op": "gte", "value": 5})
    r = client_admin.post(reverse("territories:edit", args=[t.pk]),
                          revenue_rule("1e30").post(plan=plan.pk, territory=t.pk, name=t.name, code="T1", **FORM))
    assert r.status_code == 422 and "must be below 100,000,000,000,000" in r.content.decode()
    t.refresh_from_db()
    assert t.rule == {"field": "employees", "op": "gte", "value": 5}


@pytest.mark.parametrize("bad", [HUGE_ID, "²", "-3"])
def test_edit_refuses_a_named_value_that_is_not_an_id(client_admin, plan, bad):
    t = factories.make_territory(plan, code="N1", type=Territory.Type.NAMED_ACCOUNT)
    kept = factories.make_account(name="Kept Co")
    t.named_accounts.add(kept)
    post = revenue_rule("5").post(plan=plan.pk, territory=t.pk, name=t.name, code="N1",
                                  named=[str(kept.pk), bad], **{**FORM, "type": "named_account"})
    r = client_admin.post(reverse("territories:edit", args=[t.pk]), post)
    assert r.status_code == 422
    assert "1 of the named accounts is not an account id" in r.content.decode()
    assert list(t.named_accounts.all()) == [kept]


def test_builder_endpoints_ignore_huge_ids(client_admin, plan):
    b = revenue_rule("5")
    r = client_admin.post(reverse("territories:builder_preview"),
                          b.post(plan=HUGE_ID, territory=HUGE_ID, named=[HUGE_ID], type="named_account"))
    assert r.status_code == 200
    r = client_admin.get(reverse("territories:builder_options"), {"kind": "parent", "plan": HUGE_ID, "q": "x"})
    assert r.status_code == 200
    r = client_admin.get(reverse("territories:new"), {"plan": HUGE_ID})
    assert r.status_code == 200


# --- rule size: the node limit and the post's field limit agree ------------------------------


def form_post(c: Client, url: str, data: dict):
    """As the page posts: url-encoded (the test client's default is multipart)."""
    return c.post(url, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded")


def rule_of(nodes: int) -> Builder:
    """A root group and ``nodes - 1`` condition rows (eight fields each, as the page posts)."""
    b = Builder()
    root = b.group(join="any")
    for i in range(nodes - 1):
        b.cond(root, "employees", "gte", text=str(i + 1))
    return b


def test_a_rule_at_the_node_limit_saves(client_admin, plan):
    post = rule_of(tf.MAX_NODES).post(plan=plan.pk, name="Long rule", **{**FORM, "action": "draft"})
    assert sum(len(v) for v in post.values()) > 3000  # past Django's 1,000 fields three times over
    r = form_post(client_admin, reverse("territories:builder_preview"), post)
    assert r.status_code == 200 and "data-count" in r.content.decode()
    r = form_post(client_admin, reverse("territories:new"), post)
    assert r.status_code == 302, r.content.decode()[:2000]
    assert len(Territory.objects.get(name="Long rule").rule["any"]) == tf.MAX_NODES - 1


def test_a_rule_above_the_node_limit_gets_a_message(client_admin, plan):
    post = rule_of(tf.MAX_NODES + 1).post(plan=plan.pk, name="Too long", **{**FORM, "action": "draft"})
    message = f"A rule may hold at most {tf.MAX_NODES} conditions and groups; this one has {tf.MAX_NODES + 1}"
    r = form_post(client_admin, reverse("territories:builder_preview"), post)
    assert r.status_code == 200 and message in r.content.decode()
    r = form_post(client_admin, reverse("territories:new"), post)
    assert r.status_code == 422 and message in r.content.decode()
    assert not Territory.objects.exists()


def test_a_post_past_the_field_limit_says_so(client_admin, plan):
    post = {"plan": [str(plan.pk)], "name": ["x"], "junk": ["1"] * tf.MAX_FORM_FIELDS}
    r = form_post(client_admin, reverse("territories:new"), post)
    assert r.status_code == 400 and "more than it can hold" in r.content.decode()
    assert not Territory.objects.exists()
