"""The app's own error pages: styled, no technical detail, for 404, 403, CSRF failure and 500."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views import defaults

from salesos.models import SalesProfile

pytestmark = pytest.mark.django_db


def _styled(body: str) -> None:
    assert "css/salesos.css" in body and "error-page" in body
    assert "Traceback" not in body and "URLconf" not in body and "DEBUG = True" not in body


def test_a_missing_page_is_the_apps_404(client, make_user):
    client.force_login(make_user(SalesProfile.Role.REP))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    _styled(body)
    assert "Page not found · SalesOS" in body and reverse("home") in body


def test_a_forbidden_object_answers_the_same_404_page(client, make_user):
    client.force_login(make_user(SalesProfile.Role.REP))
    response = client.get(reverse("territories:detail", args=[987654]))
    assert response.status_code == 404
    _styled(response.content.decode())


def test_permission_denied_is_the_apps_403(make_user):
    request = RequestFactory().get("/")
    request.user = make_user(SalesProfile.Role.REP)
    response = defaults.permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    body = response.content.decode()
    _styled(body)
    assert "Your account may not do this" in body


def test_a_csrf_failure_is_the_apps_page(make_user):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(make_user(SalesProfile.Role.REP))
    response = strict.post(reverse("logout"))
    assert response.status_code == 403
    body = response.content.decode()
    _styled(body)
    assert "This form could not be sent" in body and "CSRF verification failed" not in body


def test_a_server_error_is_the_apps_500():
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    body = response.content.decode()
    _styled(body)
    assert "Something went wrong on our side" in body
