"""Typed requests for views (annotations only: nothing here changes what a request carries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class HtmxHttpRequest(HttpRequest):
    """A request that passed django-htmx's ``HtmxMiddleware`` (every request does: see
    ``MIDDLEWARE``), which sets ``request.htmx``."""

    htmx: HtmxDetails


class AuthenticatedHttpRequest(HtmxHttpRequest):
    """A request to a ``login_required`` view: its user is signed in, never ``AnonymousUser``."""

    user: User
