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


# Primary keys are BigAutoField: a posted id outside that range names nothing, and SQLite cannot
# even bind it (OverflowError), so it is refused before any query.
MAX_ID = 2**63 - 1


def parse_id(value: object) -> int | None:
    """A posted or query-string id as an int, or None when it is not one: ASCII digits only (no
    sign, no "²") and within the database's integer range."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
