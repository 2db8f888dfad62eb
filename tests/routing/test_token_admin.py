"""Integration tokens in the admin: the key is shown once, stored only as a hash, and revoking
stops it at once."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages

from routing.models import IntegrationToken, Notification
from tests.factories import make_user

pytestmark = pytest.mark.django_db

ADD = "/admin/routing/integrationtoken/add/"
LIST = "/admin/routing/integrationtoken/"
KEY = re.compile(r"sos_[A-Za-z0-9_-]{40,}")


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-Secret-123")
    client.force_login(user)
    return user


def add_token(client, name="HubSpot", **fields):
    response = client.post(ADD, {"name": name, "can_create_leads": "on", **fields}, follow=True)
    assert response.status_code == 200
    return response


def test_created_token_shows_its_key_once_and_stores_only_the_hash(client, staff):
    response = add_token(client)
    shown = [str(m) for m in get_messages(response.wsgi_request)] or [response.content.decode()]
    page = response.content.decode()
    keys = KEY.findall(page)
    assert len(set(keys)) == 1, shown
    key = keys[0]
    token = IntegrationToken.objects.get(name="HubSpot")
    assert token.key_hash == IntegrationToken.hash_key(key) and key.startswith(token.prefix)
    assert token.created_by == staff and token.can_create_leads and token.revoked_at is None
    assert key not in token.key_hash and key not in str(token.__dict__)
    # Never again: not on the list, not on the change page.
    assert key not in client.get(LIST).content.decode()
    change = client.get(f"{LIST}{token.pk}/change/").content.decode()
    assert key not in change and token.prefix in change
    # The key works against the API.
    answer = client.post("/api/v1/route", "{}", content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.status_code == 200


def test_editing_a_token_keeps_its_key(client, staff):
    add_token(client)
    token = IntegrationToken.objects.get()
    before = token.key_hash
    response = client.post(f"{LIST}{token.pk}/change/", {"name": "HubSpot EU"}, follow=True)
    assert response.status_code == 200 and not KEY.search(response.content.decode())
    token.refresh_from_db()
    assert token.name == "HubSpot EU" and token.key_hash == before and not token.can_create_leads


def test_list_shows_name_prefix_created_last_used_and_status(client, staff):
    add_token(client, name="Active one")
    add_token(client, name="Old one")
    IntegrationToken.objects.filter(name="Old one").update(revoked_at="2026-01-05T00:00:00Z")
    page = client.get(LIST).content.decode()
    for token in IntegrationToken.objects.all():
        assert token.name in page and token.prefix in page
    assert "Active" in page and "Revoked 2026-01-05" in page
    for heading in ("Name", "Prefix", "Created at", "Last used at", "Status"):
        assert heading in page
    assert "Old one" not in client.get(LIST + "?status=active").content.decode()


def test_revoke_action_stops_the_key(client, staff):
    response = add_token(client)
    key = KEY.search(response.content.decode()).group(0)
    token = IntegrationToken.objects.get()
    response = client.post(LIST, {"action": "revoke", "_selected_action": [token.pk]}, follow=True)
    assert "Revoked 1 token." in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    answer = client.post("/api/v1/route", "{}", content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {key}")
    assert answer.status_code == 401 and answer["WWW-Authenticate"].startswith("Bearer")
    # Revoking again changes nothing.
    stamp = token.revoked_at
    client.post(LIST, {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at == stamp


def test_non_staff_cannot_reach_token_admin(client):
    client.force_login(make_user())
    assert client.get(ADD).status_code == 302
    assert IntegrationToken.objects.count() == 0


def test_notification_admin_lists_notifications(client, staff):
    Notification.objects.create(user=staff, title="12 new accounts with no territory")
    page = client.get("/admin/routing/notification/").content.decode()
    assert "12 new accounts with no territory" in page
