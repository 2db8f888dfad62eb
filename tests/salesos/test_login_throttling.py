"""Login throttling (django-axes): failures counted per username + client address, on the app's
sign-in page and the admin's."""

from __future__ import annotations

import pytest
from django.urls import reverse

from salesos.models import SalesProfile

Role = SalesProfile.Role
RIGHT = "pw-Secret-123"


@pytest.fixture
def rita(make_user):
    return make_user(Role.REP, username="rita", password=RIGHT)


def _post(client, url, password, username="rita", ip="10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_sixth_wrong_password_then_the_right_one_is_refused(client, rita, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    url = reverse("login")
    for _ in range(4):
        response = _post(client, url, "wrong")
        assert response.status_code == 200 and "Please enter a correct username" in response.content.decode()
    # The 5th failure reaches the limit and locks; the 6th and the right password are refused.
    assert _post(client, url, "wrong").status_code == 429
    assert _post(client, url, "wrong").status_code == 429
    right = _post(client, url, RIGHT)
    assert right.status_code == 429
    body = right.content.decode()
    assert "Too many failed sign-ins" in body and "15 minutes" in body
    assert "_auth_user_id" not in client.session


def test_a_success_before_the_limit_resets_the_count(client, rita):
    url = reverse("login")
    for _ in range(4):
        _post(client, url, "wrong")
    assert _post(client, url, RIGHT).status_code == 302
    client.logout()
    for _ in range(4):
        assert _post(client, url, "wrong").status_code == 200
    assert _post(client, url, RIGHT).status_code == 302


def test_lockout_is_per_username_and_address(client, rita, make_user):
    make_user(Role.REP, username="rob", password=RIGHT)
    url = reverse("login")
    for _ in range(5):
        _post(client, url, "wrong")
    assert _post(client, url, RIGHT).status_code == 429
    # The same username from another address, and another username from the same address, still sign in.
    assert _post(client, url, RIGHT, ip="10.0.0.2").status_code == 302
    client.logout()
    assert _post(client, url, RIGHT, username="rob").status_code == 302


def test_admin_login_is_throttled_too(client, make_user):
    user = make_user(Role.ADMIN, username="boss", password=RIGHT)
    user.is_staff = True
    user.is_superuser = True
    user.save()
    url = reverse("admin:login")
    for _ in range(4):
        assert _post(client, url, "wrong", username="boss").status_code == 200
    assert _post(client, url, "wrong", username="boss").status_code == 429
    locked = _post(client, url, RIGHT, username="boss")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_forwarded_for_is_ignored_unless_behind_a_proxy(client, rita, settings):
    url = reverse("login")
    # Without a proxy, a client cannot dodge the lockout by inventing X-Forwarded-For addresses.
    for n in range(5):
        client.post(url, {"username": "rita", "password": "wrong"}, REMOTE_ADDR="10.0.0.1",
                    HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")
    assert _post(client, url, RIGHT).status_code == 429
    settings.BEHIND_PROXY = True
    # Behind the proxy, the address the proxy appended is the client's.
    response = client.post(url, {"username": "rita", "password": RIGHT}, REMOTE_ADDR="10.0.0.1",
                           HTTP_X_FORWARDED_FOR="spoofed, 198.51.100.7")
    assert response.status_code == 302
