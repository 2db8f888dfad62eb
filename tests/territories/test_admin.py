"""The admin site cannot bypass the territory services, and its object URLs never answer 500."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from territories.models import RepAssignment, Territory, TerritoryPlan, TerritoryUserObjectPermission
from tests import factories

pytestmark = pytest.mark.django_db

OURS = ("salesos", "territories", "routing", "planning")


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-Secret-123")
    client.force_login(user)
    return user


@pytest.fixture
def territory():
    plan = factories.make_plan()
    t = factories.make_territory(plan, code="WEST", name="West",
                                 rule={"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]})
    rep = factories.make_user(username="wes")
    factories.assign(t, rep)
    return t


def object_urls() -> list[tuple[str, str]]:
    """(app label, URL) of every registered model admin's object views with the id "abc"."""
    urls = []
    for model in admin.site._registry:
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for view, args in (("change", ["abc"]), ("delete", ["abc"]), ("history", ["abc"]),
                           ("permissions", ["abc"]), ("permissions_manage_user", ["abc", "1"]),
                           ("permissions_manage_group", ["abc", "1"]), ("simple_history", ["abc", "1"])):
            try:
                urls.append((model._meta.app_label, reverse(f"{info}_{view}", args=args)))
            except NoReverseMatch:
                continue
    return urls


def test_non_numeric_ids_answer_404_never_500(client, staff, territory):
    urls = object_urls()
    assert "/admin/territories/territory/abc/permissions/" in [u for _, u in urls]
    assert "/admin/planning/quota/abc/history/" in [u for _, u in urls]
    wrong = []
    for app, url in urls:
        status = client.get(url).status_code
        if (app in OURS and status != 404) or status >= 500:
            wrong.append(f"{url}: {status}")
    assert not wrong
    # Other ids in an object URL too: a history version, guardian's user.
    assert client.get(f"/admin/territories/territory/{territory.pk}/history/abc/").status_code == 404
    assert client.get(f"/admin/territories/territory/{territory.pk}/permissions/user-manage/abc/").status_code == 404
    # Real ids still open.
    assert client.get(f"/admin/territories/territory/{territory.pk}/history/").status_code == 200
    assert client.get(f"/admin/territories/territory/{territory.pk}/change/").status_code == 200


def test_a_rule_cannot_be_saved_in_the_admin(client, staff, territory):
    page = client.get(f"/admin/territories/territory/{territory.pk}/change/").content.decode()
    assert reverse("territories:edit", args=[territory.pk]) in page
    assert 'name="rule"' not in page  # shown, not editable
    version = territory.plan.version
    response = client.post(f"/admin/territories/territory/{territory.pk}/change/", {
        "plan": territory.plan_id, "code": "WEST", "name": "West", "type": "geographic", "priority": 0,
        "rule": '{"field": "annual_revenue", "op": "gte", "value": "lots"}', "status": "active",
        "credit_percent": 100, "lead_assignment": "primary",
    })
    assert response.status_code == 403
    territory.refresh_from_db()
    assert territory.rule == {"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]}
    territory.plan.refresh_from_db()
    assert territory.plan.version == version
    assert client.get("/admin/territories/territory/add/").status_code == 403
    assert client.post(f"/admin/territories/territory/{territory.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Territory.objects.filter(pk=territory.pk).exists()


def test_an_assignment_cannot_be_ended_in_the_admin(client, staff, territory):
    assignment = RepAssignment.objects.get(territory=territory)
    page = client.get(f"/admin/territories/repassignment/{assignment.pk}/change/").content.decode()
    assert reverse("territories:assignments", args=[territory.pk]) in page
    response = client.post(f"/admin/territories/repassignment/{assignment.pk}/change/", {
        "territory": territory.pk, "user": assignment.user_id, "slot": "primary", "start_date": "2026-01-01",
        "end_date": "2026-02-01",
    })
    assert response.status_code == 403
    assert client.post(f"/admin/territories/repassignment/{assignment.pk}/delete/", {"post": "yes"}).status_code == 403
    assignment.refresh_from_db()
    assert assignment.end_date is None
    # So the rep's grant stays exactly as the grants service keeps it: in step with the assignment.
    assert TerritoryUserObjectPermission.objects.filter(user=assignment.user, content_object=territory).exists()


def test_a_manager_change_in_the_profile_admin_moves_the_grants(client, staff, territory):
    """Profiles stay editable in the admin because their save goes through ``profile_save``: the
    old manager loses the team grant on the rep's territory at once, the new one gets it."""
    rep = RepAssignment.objects.get(territory=territory).user
    old, new = factories.make_user("manager", username="old_mgr"), factories.make_user("manager", username="new_mgr")
    profile = rep.sales_profile
    profile.manager = old
    from salesos.services import profile_save

    profile_save(profile=profile)
    assert TerritoryUserObjectPermission.objects.filter(user=old, content_object=territory).exists()
    url = f"/admin/salesos/salesprofile/{profile.pk}/change/"
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["manager"] = new.pk
    data.update({"leaves-TOTAL_FORMS": 0, "leaves-INITIAL_FORMS": 0, "leaves-MIN_NUM_FORMS": 0,
                 "leaves-MAX_NUM_FORMS": 1000})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert not TerritoryUserObjectPermission.objects.filter(user=old, content_object=territory).exists()
    assert TerritoryUserObjectPermission.objects.filter(user=new, content_object=territory).exists()


# --- plans: their own fields only; status (activation) and bookkeeping are read-only -------------


def plan_form(plan, **overrides) -> dict:
    data = {"name": plan.name, "description": "", "fiscal_year": "", "kind": plan.kind,
            "effective_date": plan.effective_date.isoformat() if plan.effective_date else ""}
    data.update(overrides)
    return data


def test_a_plan_status_cannot_be_changed_in_the_admin(client, staff):
    active = factories.make_plan(name="FY26")
    draft = factories.make_plan(name="FY27 draft", status="draft")
    url = f"/admin/territories/territoryplan/{draft.pk}/change/"
    page = client.get(url).content.decode()
    assert reverse("planning:index") in page and "changes only through staging and activation" in page
    assert 'name="status"' not in page and 'name="version"' not in page
    # A posted status (and version) is ignored: the plan's own fields save, the activation does not.
    response = client.post(url, plan_form(draft, name="FY27 plan", status="active", version="99",
                                           activated_at="2026-01-01 00:00"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.name, draft.status, draft.version, draft.activated_at) == ("FY27 plan", "draft", 1, None)
    active.refresh_from_db()
    assert active.status == "active"


def test_reverting_a_plan_in_the_admin_history_keeps_its_status(client, staff):
    """simple-history's revert view saves a whole old version of the row: it must not bring back
    an old status (here: un-activate the active plan)."""
    plan = factories.make_plan(name="FY26", status="draft")
    as_draft = plan.history.latest().history_id
    plan.status = TerritoryPlan.Status.ACTIVE  # as activation would
    plan.save()
    url = f"/admin/territories/territoryplan/{plan.pk}/history/{as_draft}/"
    response = client.post(url, plan_form(plan, name="FY26 renamed"))
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.status == "active" and plan.name == "FY26 renamed"
    assert plan.history.latest().status == "active"  # the history records what is stored


def test_a_plan_added_in_the_admin_is_a_draft(client, staff):
    factories.make_plan(name="FY26")
    response = client.post("/admin/territories/territoryplan/add/",
                           {"name": "FY28", "description": "", "fiscal_year": "", "kind": "annual",
                            "effective_date": "2028-02-01", "status": "active"})
    assert response.status_code == 302
    assert TerritoryPlan.objects.get(name="FY28").status == "draft"


@pytest.mark.parametrize("model", ["territory", "repassignment"])
def test_the_admin_history_cannot_revert_a_territory_or_an_assignment(client, staff, territory, model):
    """simple-history's revert view saves an old version of the row on POST without asking for
    change permission: for the read-only territory admins it is view-only too."""
    obj = territory if model == "territory" else RepAssignment.objects.get(territory=territory)
    first = obj.history.earliest().history_id
    if model == "territory":
        obj.rule = {"all": [{"field": "state", "op": "in", "value": ["US-OR"]}]}
    else:
        obj.end_date = obj.start_date + dt.timedelta(days=30)
    obj.save()  # a later change, as the services make it
    url = f"/admin/territories/{model}/{obj.pk}/history/{first}/"
    page = client.get(url)
    assert page.status_code == 200  # the old version can still be looked at
    form = page.context["adminform"].form  # the old version's values, posted back as they are shown
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    if "rule" in data:
        data["rule"] = json.dumps(data["rule"])
    for name, value in list(data.items()):
        if isinstance(value, dt.datetime):  # the admin's split date/time inputs
            data.update({f"{name}_0": value.date().isoformat(), f"{name}_1": value.time().isoformat()})
    response = client.post(url, data)
    obj.refresh_from_db()
    if model == "territory":
        assert obj.rule == {"all": [{"field": "state", "op": "in", "value": ["US-OR"]}]}
    else:
        assert obj.end_date == obj.start_date + dt.timedelta(days=30)
    assert response.status_code == 403
