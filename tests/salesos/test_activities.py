"""Logging a call, email or meeting on an account: whoever sees the account may, nobody else;
validated on the server; works as a plain form post and as an htmx fragment."""

from __future__ import annotations

import pytest
from django.urls import reverse

from salesos.models import Activity
from tests.routing.pages import ROLES, World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return build_world()


def log(client, account, **data):
    return client.post(reverse("accounts:activity_add", args=[account.pk]), data)


@pytest.mark.parametrize("role", ROLES)
def test_everyone_who_sees_the_account_logs_an_activity(client, world, role):
    client.force_login(world.users[role])
    response = log(client, world.own, kind="meeting", note="Quarterly review with the CFO")
    assert response.status_code == 302 and response["Location"].endswith(f"/accounts/{world.own.pk}/#activities")
    activity = Activity.objects.get(account=world.own)
    assert (activity.kind, activity.subject, activity.user) == ("meeting", "Quarterly review with the CFO",
                                                                 world.users[role])
    page = client.get(reverse("accounts:detail", args=[world.own.pk])).content.decode()
    assert "Meeting: Quarterly review with the CFO" in page and "Meeting logged on Golden Labs." in page


@pytest.mark.parametrize("role", ["director", "manager", "rep"])
def test_an_account_the_user_cannot_see_answers_404_and_logs_nothing(client, world, role):
    client.force_login(world.users[role])
    foreign = world.foreign_for(role)
    assert log(client, foreign, kind="call", note="Sneaky").status_code == 404
    assert log(client, foreign, kind="call", note="Sneaky", HTTP_HX_REQUEST="true").status_code == 404
    missing = reverse("accounts:activity_add", args=[99999999])
    assert client.post(missing, {"kind": "call", "note": "x"}).status_code == 404
    assert not Activity.objects.exists()


def test_service_refuses_an_unseen_account(world):
    from django.http import Http404

    from pages.activities import activity_log

    with pytest.raises(Http404):
        activity_log(user=world.users["rep"], account_id=world.foreign.pk, kind="call", note="x")
    assert not Activity.objects.exists()


def test_anonymous_and_get_are_refused(client, world):
    assert log(client, world.own, kind="call", note="x").status_code == 302  # to the login page
    client.force_login(world.users["rep"])
    assert client.get(reverse("accounts:activity_add", args=[world.own.pk])).status_code == 405
    assert not Activity.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    ({"kind": "fax", "note": "x"}, "Pick call, email or meeting."),
    ({"note": "x"}, "Pick call, email or meeting."),
    ({"kind": "call", "note": "   "}, "Write a short note of what happened."),
    ({"kind": "call"}, "Write a short note of what happened."),
    ({"kind": "email", "note": "x" * 201}, "at most 200 characters"),
])
def test_bad_input_is_refused_with_a_message_and_changes_nothing(client, world, data, message):
    client.force_login(world.users["rep"])
    response = log(client, world.own, **data)
    assert response.status_code == 422 and message in response.content.decode()
    htmx = client.post(reverse("accounts:activity_add", args=[world.own.pk]), data, headers={"HX-Request": "true"})
    body = htmx.content.decode()
    assert htmx.status_code == 200 and message in body
    assert body.lstrip().startswith('<section class="card mb-4" id="activities"')
    assert not Activity.objects.exists()


def test_htmx_answers_the_activities_card_with_the_new_one(client, world):
    client.force_login(world.users["rep"])
    response = client.post(reverse("accounts:activity_add", args=[world.own.pk]),
                           {"kind": "email", "note": "Sent the <b>proposal</b>"}, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert response.status_code == 200 and body.lstrip().startswith('<section class="card mb-4" id="activities"')
    assert "Email: Sent the &lt;b&gt;proposal&lt;/b&gt;" in body and "Logged." in body
    assert Activity.objects.filter(account=world.own, user=world.users["rep"]).count() == 1


def test_account_page_links_territory_and_owner(client, world):
    client.force_login(world.users["rep"])
    body = client.get(reverse("accounts:detail", args=[world.own.pk])).content.decode()
    from territories.placement import placement

    where = placement(world.own)
    assert reverse("territories:detail", args=[where.territory.pk]) in body
    assert f'{reverse("accounts:index")}?owner={where.owner.pk}' in body
