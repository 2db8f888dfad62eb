"""The approval policy pages: admins only; a policy and its steps are saved at once, and bad
input gets a clear message and changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from planning.approvals.resolve import policy_for
from planning.models import ApprovalPolicy, ApprovalPolicyStep, Subject
from salesos.models import SalesProfile
from tests.factories import make_user
from tests.planning.approvals_helpers import make_org

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role


def _post(policy, **extra):
    data = {
        "name": "Big moves",
        "description": "Director signs off big moves",
        "is_active": "1",
        "kinds": ["move_accounts", "merge"],
        "pc-join": "any",
        "pc-fact": ["moved_pipeline", "moved_accounts", ""],
        "pc-op": ["gt", "gt", ""],
        "pc-value": ["$250,000", "100", ""],
        "step": ["a", "b", "c"],
        "s-a-name": "Outgoing manager",
        "s-a-relation": "outgoing_manager",
        "s-a-mode": "all",
        "s-b-name": "",
        "s-b-relation": "incoming_manager",
        "s-b-mode": "all",
        "s-c-name": "Director",
        "s-c-relation": "director",
        "s-c-mode": "any",
        "s-c-c-fact": ["moved_deals", "", ""],
        "s-c-c-op": ["gte", "", ""],
        "s-c-c-value": ["5", "", ""],
    }
    data.update(extra)
    return data


def test_only_admins_open_the_policy_pages(client):
    policy = ApprovalPolicy.objects.get()
    for role in (Role.DIRECTOR, Role.MANAGER, Role.REP):
        client.force_login(make_user(role))
        assert client.get(reverse("approvals:policies")).status_code == 404
        assert client.get(reverse("approvals:policy", args=[policy.pk])).status_code == 404
        assert client.post(reverse("approvals:policy", args=[policy.pk]), _post(policy)).status_code == 404
        assert client.post(reverse("approvals:policy_create"), {"name": "Sneaky"}).status_code == 404
    assert ApprovalPolicy.objects.get().name.startswith("Default")


def test_an_admin_creates_a_policy_and_saves_its_steps_and_conditions(client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("approvals:policy_create"), {"name": "Big moves", "subject": "reassignment"})
    policy = ApprovalPolicy.objects.get(name="Big moves")
    assert response.status_code == 302 and not policy.is_active
    assert policy.order < ApprovalPolicy.objects.get(name__startswith="Default").order  # tried first
    response = client.post(reverse("approvals:policy", args=[policy.pk]), _post(policy))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.is_active and policy.kinds == ["merge", "move_accounts"]
    assert policy.condition == {
        "any": [
            {"fact": "moved_pipeline", "op": "gt", "value": 250000},
            {"fact": "moved_accounts", "op": "gt", "value": 100},
        ]
    }
    steps = list(policy.steps.order_by("order").values_list("order", "relation", "mode", "condition"))
    assert steps == [
        (1, "outgoing_manager", "all", {}),
        (2, "incoming_manager", "all", {}),
        (3, "director", "any", {"fact": "moved_deals", "op": "gte", "value": 5}),
    ]
    page = client.get(reverse("approvals:policies")).content.decode()
    assert "open pipeline moved more than 250000 or accounts moved more than 100" in page
    edit = client.get(reverse("approvals:policy", args=[policy.pk])).content.decode()
    assert 'value="250000"' in edit and "Director" in edit
    org = make_org()
    assert policy_for(subject=Subject.REASSIGNMENT, facts=org.facts()) == policy


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"name": ""}, "Give the policy a name."),
        ({"pc-value": ["lots", "100", ""]}, "Open pipeline moved needs a number"),
        ({"pc-op": ["in", "gt", ""]}, "does not compare numbers"),
        ({"kinds": ["teleport"]}, "“teleport” is not a kind of change."),
        ({"s-a-relation": "named_user"}, "Choose the person who approves this step."),
        ({"s-b-mode": "most"}, "Choose whether all of them or any one approves."),
        ({"s-c-c-fact": ["pipeline", "", ""]}, "unknown fact"),
    ],
)
def test_bad_input_is_named_and_changes_nothing(client, admin_user, extra, message):
    client.force_login(admin_user)
    policy = ApprovalPolicy.objects.get()
    before = list(policy.steps.values_list("pk", "relation"))
    response = client.post(reverse("approvals:policy", args=[policy.pk]), _post(policy, **extra))
    assert response.status_code == 400
    assert message in response.content.decode()
    policy.refresh_from_db()
    assert policy.name.startswith("Default") and list(policy.steps.values_list("pk", "relation")) == before


def test_the_last_active_policy_cannot_be_switched_off_or_deleted(client, admin_user):
    client.force_login(admin_user)
    policy = ApprovalPolicy.objects.get()
    data = _post(policy, name=policy.name)
    data.pop("is_active")
    response = client.post(reverse("approvals:policy", args=[policy.pk]), data)
    assert response.status_code == 400 and "Keep at least one active policy" in response.content.decode()
    client.post(reverse("approvals:policy_delete", args=[policy.pk]))
    assert ApprovalPolicy.objects.filter(pk=policy.pk, is_active=True).exists()


def test_named_steps_removed_steps_and_the_order_of_policies(client, admin_user):
    client.force_login(admin_user)
    director = make_user(Role.DIRECTOR)
    default = ApprovalPolicy.objects.get()
    other = ApprovalPolicy.objects.create(name="Later", order=2000)
    data = _post(other, name="Later", **{"s-a-relation": "named_user", "s-a-user": str(director.pk), "s-b-delete": "1"})
    assert client.post(reverse("approvals:policy", args=[other.pk]), data).status_code == 302
    assert list(other.steps.values_list("relation", "user_id")) == [("named_user", director.pk), ("director", None)]
    response = client.post(
        reverse("approvals:policy_move", args=[other.pk]), {"direction": "up"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="policy-list"' in response.content.decode()
    assert list(ApprovalPolicy.objects.order_by("order").values_list("pk", flat=True)) == [other.pk, default.pk]
    assert client.post(reverse("approvals:policy_delete", args=[other.pk])).status_code == 302
    assert not ApprovalPolicy.objects.filter(pk=other.pk).exists()


def test_htmx_adds_a_blank_step_and_saves_in_place(client, admin_user):
    client.force_login(admin_user)
    policy = ApprovalPolicy.objects.get()
    row = client.get(reverse("approvals:policy_step_row"), HTTP_HX_REQUEST="true").content.decode()
    assert 'name="step"' in row and "Who approves" in row and "<html" not in row
    response = client.post(
        reverse("approvals:policy", args=[policy.pk]), _post(policy, name=policy.name), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Saved." in body and "<html" not in body
    assert policy.steps.count() == 3
    # Without JavaScript, "Add a step" re-renders the form with one more blank step, saving nothing.
    plain = client.post(reverse("approvals:policy", args=[policy.pk]), _post(policy, add_step="1"))
    assert plain.content.decode().count('name="step"') == 4 and policy.steps.count() == 3
    assert ApprovalPolicyStep.objects.filter(policy=policy).count() == 3
