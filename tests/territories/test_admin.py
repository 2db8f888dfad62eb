"""The admin site cannot bypass the territory services, and its object URLs never answer 500."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse

from territories.models import RepAssignment, Territory, TerritoryUserObjectPermission
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
