"""Who sees a proposal beyond its initiator and approvers: a rep named in a rep change (leaving
or taking the slot) sees that proposal, and only that one."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from planning.models import Reassignment
from planning.reassignments.access import reassignments_visible_to
from planning.reassignments.services import reassignment_propose
from salesos.models import SalesProfile
from territories.grants import grants_rebuild
from tests.factories import make_user
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db
Role = SalesProfile.Role


@pytest.fixture
def org():
    org = build_org(accounts=2)
    org.newcomer = make_user(Role.REP, username="newcomer", manager=org.east_manager)
    org.bystander = make_user(Role.REP, username="bystander", manager=org.east_manager)
    grants_rebuild()
    return org


def _slot_change(org, *, to_user, title="Newcomer takes the West"):
    return reassignment_propose(
        by=org.director, plan=org.plan, kind="slot_change", title=title, effective_date=timezone.localdate(),
        change={"territory": org.west.pk, "slot": "primary", "from_user": org.west_rep.pk, "to_user": to_user.pk})


def test_a_rep_named_in_a_rep_change_sees_that_proposal_and_nothing_else(client, org):
    change = _slot_change(org, to_user=org.newcomer)
    other = reassignment_propose(
        by=org.director, plan=org.plan, kind="move_accounts", title="West accounts to the East",
        effective_date=timezone.localdate(), change={"accounts": [org.accounts[0].pk], "to_territory": org.east.pk})
    # The incoming rep and the outgoing one both see it; a rep it does not name does not.
    assert list(reassignments_visible_to(org.newcomer)) == [change]
    assert change in reassignments_visible_to(org.west_rep)
    assert not reassignments_visible_to(org.bystander).exists()

    client.force_login(org.newcomer)
    page = client.get(reverse("planning:proposal", args=[change.pk]))
    assert page.status_code == 200 and "Newcomer takes the West" in page.content.decode()
    assert client.get(reverse("planning:proposal", args=[other.pk])).status_code == 404
    listing = client.get(reverse("planning:proposals"), {"scope": "team"}).content.decode()
    assert "Newcomer takes the West" in listing and "West accounts to the East" not in listing
    # Seeing is not acting: the named rep cannot submit or withdraw it.
    client.post(reverse("planning:proposal_withdraw", args=[change.pk]))
    assert Reassignment.objects.get(pk=change.pk).status == Reassignment.Status.DRAFT

    client.force_login(org.bystander)
    assert client.get(reverse("planning:proposal", args=[change.pk])).status_code == 404


def test_a_rep_change_naming_someone_else_stays_hidden(org):
    _slot_change(org, to_user=org.bystander, title="Bystander takes the West")
    assert not reassignments_visible_to(org.newcomer).exists()
