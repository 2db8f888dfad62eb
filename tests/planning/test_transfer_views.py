"""Plan export and import from the plans page: admins download a plan and upload it back as a
draft; a faulty file is refused whole with its problems listed; other roles neither see the
controls nor get anything written by posting."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from salesos.models import SalesProfile
from territories.models import Territory, TerritoryPlan
from tests import factories

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role


@pytest.fixture
def plan():
    plan = factories.make_plan(name="Live map")
    root = factories.make_territory(plan, code="NA", name="North America",
                                    rule={"all": [{"field": "country", "op": "in", "value": ["US"]}]})
    factories.make_territory(plan, code="NA-W", name="West", parent=root,
                             rule={"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]})
    return plan


def _upload(document, name="plan.json") -> SimpleUploadedFile:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return SimpleUploadedFile(name, body, content_type="application/json")


def test_admin_downloads_and_imports_back_as_draft(client, plan):
    client.force_login(factories.make_user(Role.ADMIN))
    page = client.get(reverse("planning:index")).content.decode()
    assert reverse("planning:plan_export", args=[plan.pk]) in page and "Import a plan" in page

    download = client.get(reverse("planning:plan_export", args=[plan.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="plan-live-map.json"'
    document = json.loads(download.content)
    assert [t["code"] for t in document["territories"]] == ["NA", "NA-W"]

    response = client.post(reverse("planning:plan_import"), {"file": _upload(document), "name": "FY27 draft"},
                           follow=True)
    draft = TerritoryPlan.objects.get(name="FY27 draft")
    assert draft.status == TerritoryPlan.Status.DRAFT
    assert Territory.objects.get(plan=draft, code="NA-W").parent.code == "NA"
    assert "Imported “FY27 draft” as a draft plan with 2 territories." in response.content.decode()


def test_a_faulty_file_lists_its_problems_and_imports_nothing(client, plan):
    client.force_login(factories.make_user(Role.ADMIN))
    document = json.loads(client.get(reverse("planning:plan_export", args=[plan.pk])).content)
    document["territories"][1]["parent"] = "NOPE"
    document["territories"][0]["rule"] = {"all": [{"field": "shoe_size", "op": "eq", "value": 9}]}
    plans = TerritoryPlan.objects.count()
    response = client.post(reverse("planning:plan_import"), {"file": _upload(document)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Nothing was imported: 2 problems in the file." in body
    assert "<code>territories[1].parent</code> No territory NOPE in this file." in body
    assert "<code>territories[0].rule.all[0].field</code>" in body
    assert TerritoryPlan.objects.count() == plans


@pytest.mark.parametrize(("upload", "message"), [
    (b"{not json", "This file is not JSON"),
    (b"\xff\xfe", "This file is not JSON"),
    (None, "This field is required."),
])
def test_unreadable_uploads_are_form_errors(client, plan, upload, message):
    client.force_login(factories.make_user(Role.ADMIN))
    data = {"file": _upload(upload)} if upload is not None else {}
    response = client.post(reverse("planning:plan_import"), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert TerritoryPlan.objects.count() == 1


@pytest.mark.parametrize("role", [Role.DIRECTOR, Role.MANAGER, Role.REP])
def test_other_roles_see_no_controls_and_post_nothing(client, plan, role):
    admin = factories.make_user(Role.ADMIN)
    client.force_login(admin)
    document = json.loads(client.get(reverse("planning:plan_export", args=[plan.pk])).content)
    client.force_login(factories.make_user(role))
    page = client.get(reverse("planning:index")).content.decode()
    assert "Import a plan" not in page and "export.json" not in page
    assert client.get(reverse("planning:plan_export", args=[plan.pk])).status_code == 404
    response = client.post(reverse("planning:plan_import"), {"file": _upload(document), "name": "Sneaky"})
    assert response.status_code == 404
    assert not TerritoryPlan.objects.filter(name="Sneaky").exists()
