"""The approvals inbox and the nav badge: what waits for me now, with its impact snapshot; the
decision over htmx and as a plain post; clear refusals that change nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from planning.approvals.selectors import waiting_count
from planning.models import ApprovalTask, Reassignment
from planning.reassignments.services import reassignment_propose, reassignment_submit
from tests.planning.reassign_helpers import build_org

pytestmark = pytest.mark.django_db
S = Reassignment.Status


def _submitted(org):
    proposal = reassignment_propose(
        by=org.director,
        plan=org.plan,
        kind="move_accounts",
        effective_date=timezone.localdate(),
        change={"accounts": [a.pk for a in org.accounts[:4]], "to_territory": org.east.pk},
        deal_policy="stage_based",
        deal_stage="discovery",
        title="Balance the coasts",
        reason="West is overloaded",
    )
    return reassignment_submit(by=org.director, reassignment=proposal)


def test_the_inbox_shows_only_what_waits_for_me_now_with_its_impact(client, django_assert_max_num_queries):
    org = build_org()
    proposal = _submitted(org)
    client.force_login(org.west_manager)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("approvals:inbox")).content.decode()
    assert "Balance the coasts" in page and "West is overloaded" in page
    assert 'data-figure="accounts">4<' in page
    assert "WEST · West" in page and "EAST · East" in page  # the from -> to pair
    assert 'id="approvals-badge"' in page and 'aria-label="1 waiting for you"' in page
    # The incoming manager's step is next, not now.
    client.force_login(org.east_manager)
    later = client.get(reverse("approvals:inbox")).content.decode()
    assert "Balance the coasts" not in later and "Nothing waits for your approval" in later
    assert waiting_count(org.east_manager) == 0 and waiting_count(org.west_manager) == 1
    assert proposal.status == S.SUBMITTED


def test_the_badge_count_is_one_query(django_assert_num_queries):
    org = build_org()
    _submitted(org)
    with django_assert_num_queries(1):
        assert waiting_count(org.west_manager) == 1


def test_approving_over_htmx_updates_the_card_and_the_badge_and_passes_the_turn(client):
    org = build_org()
    proposal = _submitted(org)
    client.force_login(org.west_manager)
    response = client.post(
        reverse("approvals:decide", args=[proposal.pk]),
        {"decision": "approve", "comment": "Fine by West"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert "You approved “Balance the coasts”." in body and 'hx-swap-oob="true"' in body
    assert 'aria-label="0 waiting for you"' in body
    assert waiting_count(org.east_manager) == 1
    task = ApprovalTask.objects.get(approver=org.west_manager)
    assert (task.status, task.comment) == (ApprovalTask.Status.APPROVED, "Fine by West")


def test_the_plain_post_without_javascript_decides_and_redirects_with_a_message(client):
    org = build_org()
    proposal = _submitted(org)
    for manager in (org.west_manager, org.east_manager):
        client.force_login(manager)
        response = client.post(reverse("approvals:decide", args=[proposal.pk]), {"decision": "approve"}, follow=True)
        assert response.redirect_chain[-1][0] == reverse("approvals:inbox")
        assert "You approved" in response.content.decode()
    assert Reassignment.objects.get(pk=proposal.pk).status in (S.APPROVED, S.SCHEDULED)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Choose approve, reject or request changes."),
        ({"decision": "maybe"}, "Choose approve, reject or request changes."),
        ({"decision": "reject"}, "Say why you are rejecting"),
        ({"decision": "request_changes", "comment": "  "}, "Say why you are asking for changes"),
        ({"decision": "approve", "comment": "x" * 2001}, "Keep the comment under 2000 characters."),
    ],
)
def test_bad_decisions_get_a_clear_message_and_change_nothing(client, data, message):
    org = build_org()
    proposal = _submitted(org)
    client.force_login(org.west_manager)
    response = client.post(reverse("approvals:decide", args=[proposal.pk]), data)
    assert response.status_code == 400 and message in response.content.decode()
    assert ApprovalTask.objects.filter(status=ApprovalTask.Status.WAITING).count() == 2  # both steps still wait
    assert Reassignment.objects.get(pk=proposal.pk).status == S.SUBMITTED


def test_not_my_turn_twice_and_strangers(client):
    org = build_org()
    proposal = _submitted(org)
    decide = reverse("approvals:decide", args=[proposal.pk])
    client.force_login(org.east_manager)  # a task, but step 2
    response = client.post(decide, {"decision": "approve"})
    assert response.status_code == 400 and "not your turn" in response.content.decode()
    client.force_login(org.west_manager)
    client.post(decide, {"decision": "approve"})
    again = client.post(decide, {"decision": "approve"}, HTTP_HX_REQUEST="true").content.decode()
    assert "already decided" in again and "Not recorded." in again
    for stranger in (org.west_rep, org.other_manager, org.admin):  # no task on it: 404, even for an admin
        client.force_login(stranger)
        assert client.post(decide, {"decision": "approve"}).status_code == 404
    assert ApprovalTask.objects.filter(status=ApprovalTask.Status.APPROVED).count() == 1


def test_rejecting_with_a_comment_ends_the_proposal(client):
    org = build_org()
    proposal = _submitted(org)
    client.force_login(org.west_manager)
    client.post(reverse("approvals:decide", args=[proposal.pk]), {"decision": "reject", "comment": "Not now"})
    assert Reassignment.objects.get(pk=proposal.pk).status == S.REJECTED
    page = client.get(reverse("approvals:inbox")).content.decode()
    assert "Rejected" in page and "Not now" in page  # recent decisions


def test_the_nav_shows_approvals_to_approvers_and_not_to_reps(client):
    org = build_org()
    client.force_login(org.west_manager)
    assert reverse("approvals:inbox") in client.get(reverse("home")).content.decode()
    client.force_login(org.west_rep)
    assert reverse("approvals:inbox") not in client.get(reverse("home")).content.decode()
