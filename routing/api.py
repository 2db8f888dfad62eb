"""The lead-routing API for other systems (a CRM, a web form), mounted at /api/v1/.

``POST route`` answers where a record would go and stores nothing; ``POST leads`` creates a lead
and routes it. Both take one JSON object, authenticate with an integration token
(``Authorization: Bearer <key>``) and answer JSON whatever happens: field messages on 400, 401
with a ``WWW-Authenticate`` challenge, 403, 405, 413. Input is checked here, field by field,
before anything reaches the engine or the database (``routing.api_input``), so no input can cause
a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from routing import engine, ratelimit, services
from routing.api_auth import AuthError, token_from_request, unauthorized
from routing.api_input import LEAD_FIELDS, ROUTE_FIELDS, clean_fields, errors_response, read_json_object
from salesos.middleware import client_ip
from salesos.models import Lead
from territories import coverage
from territories.models import Territory, TerritoryPlan

logger = logging.getLogger(__name__)


def _too_many(exceeded: ratelimit.Exceeded) -> JsonResponse:
    response = JsonResponse({"error": exceeded.message}, status=429)
    response["Retry-After"] = str(exceeded.retry_after)
    return response


def _address_limited(request: HttpRequest) -> JsonResponse | None:
    """429 when this client address has used up its requests."""
    exceeded = ratelimit.hit("API_RATE_LIMIT_PER_ADDRESS", client_ip(request) or "unknown", "from this address")
    return _too_many(exceeded) if exceeded else None


def _guarded(request: HttpRequest, method: str, view: Callable[..., HttpResponse], *args, **kwargs) -> HttpResponse:
    limited = _address_limited(request)
    if limited is not None:
        return limited
    if request.method != method:
        response = JsonResponse({"error": f"Method {request.method} not allowed; use {method}."}, status=405)
        response["Allow"] = method
        return response
    try:
        token = token_from_request(request)
    except AuthError as exc:
        # Past the limit of failed keys from this address, 429 instead of 401: guessing stops.
        exceeded = ratelimit.hit(
            "API_RATE_LIMIT_AUTH_FAILURES", client_ip(request) or "unknown", "with a missing or wrong API key"
        )
        if exceeded:
            return _too_many(exceeded)
        return unauthorized(exc.message, error=exc.error or None)
    exceeded = ratelimit.hit("API_RATE_LIMIT_PER_TOKEN", str(token.pk), "with this API key")
    if exceeded:
        return _too_many(exceeded)
    request.api_token = token  # type: ignore[attr-defined]
    return view(request, *args, **kwargs)


def api_view(method: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """One HTTP method, CSRF-exempt (token auth, no cookies), rate-limited (429 with Retry-After),
    JSON 405, and a JSON 500 if a bug slips through: an integration parses every answer as JSON."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            try:
                return _guarded(request, method, view, *args, **kwargs)
            except Exception:
                logger.exception("Lead-routing API failed")
                return JsonResponse({"error": "Internal error; it has been logged."}, status=500)

        return wrapper

    return decorate


@csrf_exempt
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    """Any other path under /api/v1/, whatever the method: JSON 404 (CSRF-exempt like the API, so a
    POST is not answered by the HTML CSRF page)."""
    try:
        limited = _address_limited(request)
    except Exception:
        logger.exception("Lead-routing API rate limit failed")
        limited = None
    if limited is not None:
        return limited
    return JsonResponse({"error": "Not found. Endpoints: POST /api/v1/route, POST /api/v1/leads."}, status=404)


# --- answers ------------------------------------------------------------------------------------


def record_from(values: Mapping[str, Any]) -> dict[str, Any]:
    """The engine's record (keys as in ``LEAD_COLUMNS``) from cleaned Lead column values."""
    return {name: values.get(column) for name, column in services.LEAD_COLUMNS.items()}


def explanation(decision: Mapping[str, Any] | None, *, notes: tuple[str, ...] = ()) -> dict[str, Any]:
    if decision is None:
        return {"source": None, "conflict": False, "plan_version": None, "candidates": [], "notes": list(notes)}
    trace = decision.get("trace") or {}
    return {
        "source": decision.get("source"),
        "conflict": bool(decision.get("conflict")),
        "plan_version": trace.get("plan_version"),
        # Integrations know territories by code; database ids stay inside.
        "candidates": [
            {key: value for key, value in candidate.items() if key != "territory_id"}
            for candidate in trace.get("candidates", [])
        ],
        "notes": list(trace.get("notes", [])),
    }


def _territory(territory: Any) -> dict[str, str] | None:
    return {"code": territory.code, "name": territory.name} if territory is not None else None


def _owner(user: Any) -> dict[str, str] | None:
    return {"username": user.username, "email": user.email} if user is not None else None


def answer(
    *,
    decision: Mapping[str, Any] | None,
    territory: Any,
    owner: Any,
    territories: Mapping[int, Any],
    notes: tuple[str, ...] = (),
) -> dict[str, Any]:
    overlays = [
        {"territory": _territory(territories[t_id]), "credit_percent": credit}
        for t_id, credit in (decision or {}).get("overlays", [])
        if t_id in territories
    ]
    return {
        "territory": _territory(territory),
        "owner": _owner(owner),
        "overlays": overlays,
        "unassigned": territory is None,
        "explanation": explanation(decision, notes=notes),
    }


def preview(record: Mapping[str, Any]) -> dict[str, Any]:
    """Where a record would go in the active plan, as the API answers it; stores nothing. Three
    queries: the active plan, its version stamp (``plan_index``), the territories with the
    owner."""
    plan = TerritoryPlan.active()
    if plan is None:
        return answer(decision=None, territory=None, owner=None, territories={},
                      notes=("No active territory plan: nothing can be routed.",))
    decision = engine.resolve(services.plan_index(plan=plan), dict(record))
    ids = [t for t in [decision.territory_id, *(o for o, _ in decision.overlays)] if t is not None]
    territories, owner = coverage.names_and_owner_on(ids, decision.territory_id, timezone.localdate())
    territory = territories.get(decision.territory_id) if decision.territory_id is not None else None
    return answer(decision=decision.to_dict(), territory=territory, owner=owner, territories=territories)


# --- endpoints ----------------------------------------------------------------------------------


@api_view("POST")
def route(request: HttpRequest) -> HttpResponse:
    data = read_json_object(request)
    if isinstance(data, HttpResponse):
        return data
    values, errors = clean_fields(data, ROUTE_FIELDS)
    if errors:
        return errors_response(errors)
    return JsonResponse(preview(record_from(values)))


@api_view("POST")
def leads(request: HttpRequest) -> HttpResponse:
    if not request.api_token.can_create_leads:  # type: ignore[attr-defined]
        return JsonResponse({"error": "This API key may route records but not create leads."}, status=403)
    data = read_json_object(request)
    if isinstance(data, HttpResponse):
        return data
    values, errors = clean_fields(data, LEAD_FIELDS)
    if not values.get("company") and "company" not in errors and "name" not in errors:
        errors["company"] = ["This field is required."]
    if errors:
        return errors_response(errors)
    token = request.api_token  # type: ignore[attr-defined]
    values.setdefault("source", f"api:{token.name}"[: Lead._meta.get_field("source").max_length])
    lead = services.lead_save(lead=Lead(**values))
    decision = lead.routing_trace
    ids = [t for t in [lead.territory_id, *(t for t, _ in (decision or {}).get("overlays", []))] if t is not None]
    territories = Territory.objects.only("id", "code", "name").in_bulk(ids) if ids else {}
    owner = lead.owner if lead.owner_id is not None else None
    notes = () if decision is not None else ("No active territory plan: the lead waits unassigned.",)
    body = {"id": lead.pk, "status": lead.status}
    body.update(answer(decision=decision, territory=territories.get(lead.territory_id), owner=owner,
                       territories=territories, notes=notes))
    return JsonResponse(body, status=201)
