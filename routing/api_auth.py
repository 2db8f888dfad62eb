"""Bearer-token authentication for the lead-routing API.

Keys are looked up by their SHA-256 hash, so the database compares digests of fixed length and a
timing difference says nothing about the key. ``last_used_at`` is written at most once a minute
per token: a busy integration must not turn every read into a write.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from functools import wraps

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone

from routing.models import IntegrationToken

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
# Issued keys are ~47 characters; anything far longer is not one of ours and is not hashed.
MAX_KEY_LENGTH = 200
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9._~+/=-]+) *$", re.IGNORECASE)


class AuthError(Exception):
    def __init__(self, message: str, *, error: str = "invalid_token"):
        super().__init__(message)
        self.message = message
        self.error = error


def unauthorized(message: str, *, error: str | None = "invalid_token") -> JsonResponse:
    response = JsonResponse({"error": message}, status=401)
    # RFC 6750: no error code when the request carried no credentials at all.
    challenge = 'Bearer realm="salesos"'
    if error:
        challenge += f', error="{error}"'
    response["WWW-Authenticate"] = challenge
    return response


def token_from_request(request: HttpRequest, *, now: dt.datetime | None = None) -> IntegrationToken:
    """The active token named by the ``Authorization: Bearer <key>`` header, or ``AuthError``."""
    header = request.headers.get("Authorization", "")
    if not header:
        raise AuthError("Authentication required: send 'Authorization: Bearer <key>'.", error="")
    match = _BEARER.match(header)
    if match is None or len(match.group(1)) > MAX_KEY_LENGTH:
        raise AuthError("Malformed Authorization header: expected 'Bearer <key>'.", error="invalid_request")
    token = (
        IntegrationToken.objects.filter(key_hash=IntegrationToken.hash_key(match.group(1)))
        .only("id", "name", "can_create_leads", "last_used_at", "revoked_at")
        .first()
    )
    if token is None:
        raise AuthError("Unknown API key.")
    if token.revoked_at is not None:
        raise AuthError("This API key was revoked.")
    _touch(token, now or timezone.now())
    return token


def _touch(token: IntegrationToken, now: dt.datetime) -> None:
    stale = now - LAST_USED_RESOLUTION
    if token.last_used_at is not None and token.last_used_at > stale:
        return
    # The condition repeats in the UPDATE so concurrent processes do not all write.
    IntegrationToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=now)
    token.last_used_at = now


def token_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Runs the view with ``request.api_token`` set, or answers 401 in JSON."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            request.api_token = token_from_request(request)  # type: ignore[attr-defined]
        except AuthError as exc:
            return unauthorized(exc.message, error=exc.error or None)
        return view(request, *args, **kwargs)

    return wrapper
