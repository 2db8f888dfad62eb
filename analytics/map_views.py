"""The map page and its data endpoints (JSON for the layers, HTML partials for the cards)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.views.decorators.http import require_GET, require_POST

from analytics.geo import base_outlines
from analytics.map_adjust import adjust_allowed, adjust_preview, adjust_propose, adjust_selection
from analytics.map_forms import AdjustForm, HeatForm, MapFilterForm, ShareLocationForm, ViewportForm
from analytics.map_heat import AREA_METRICS, LEVELS, METRICS
from analytics.map_selectors import (
    map_account_card,
    map_boundaries_body,
    map_heat,
    map_levels,
    map_location_shared,
    map_points,
    map_rep_locations,
    map_territory_card,
)
from planning.reassignments.errors import ReassignmentError
from salesos.roles import is_admin, works_queue
from salesos.services import profile_set_share_location
from territories.models import TerritoryPlan


def _bad(form) -> JsonResponse:
    errors = {field: [str(e) for e in errs] for field, errs in form.errors.items()}
    return JsonResponse({"error": "Invalid map request.", "fields": errors}, status=400)


def _json(text: str | bytes) -> HttpResponse:
    return HttpResponse(text, content_type="application/json")


@require_GET
@login_required
def index(request: HttpRequest) -> HttpResponse:
    form = MapFilterForm(request.GET or None, max_depth=map_levels(user=request.user))
    leaflet = getattr(settings, "LEAFLET_CONFIG", {})
    tiles = leaflet.get("TILES") or []
    context = {
        "plan": TerritoryPlan.active(),
        "form": form,
        "metrics": METRICS,
        "levels": LEVELS,
        "area_metrics": AREA_METRICS,
        "tiles_url": tiles[0][1] if tiles else "",
        "tiles_attribution": tiles[0][2].get("attribution", "") if tiles else "",
        "center": leaflet.get("DEFAULT_CENTER", (39.5, -98.35)),
        "zoom": leaflet.get("DEFAULT_ZOOM", 4),
        "shares_location": map_location_shared(user=request.user),
        "may_adjust": adjust_allowed(request.user),
        # White space is the unassigned queue's geography: for the roles that work the queue.
        "sees_white_space": is_admin(request.user) or works_queue(request.user),
    }
    return render(request, "analytics/map.html", context)


@require_GET
@login_required
def base(request: HttpRequest) -> HttpResponse:
    """Country and state outlines under everything else (reference data, the same for everyone)."""
    response = _json(base_outlines())
    patch_cache_control(response, private=True, max_age=3600)
    return response


@require_GET
@login_required
def boundaries(request: HttpRequest) -> HttpResponse:
    form = MapFilterForm(request.GET)
    if not form.is_valid():
        return _bad(form)
    body = map_boundaries_body(user=request.user, query=form.query())
    # The browser keeps the layer and asks again with its ETag: an unchanged layer is a 304.
    response: HttpResponse
    if body.etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
        response = HttpResponseNotModified()
    elif "gzip" in request.headers.get("Accept-Encoding", ""):
        response = _json(body.gzipped)
        response["Content-Encoding"] = "gzip"
    else:
        response = _json(body.raw)
    response["ETag"] = body.etag
    patch_vary_headers(response, ["Accept-Encoding", "Cookie"])
    patch_cache_control(response, private=True, no_cache=True)
    return response


@require_GET
@login_required
def points(request: HttpRequest) -> HttpResponse:
    form, view = MapFilterForm(request.GET), ViewportForm(request.GET)
    if not form.is_valid():
        return _bad(form)
    if not view.is_valid():
        return _bad(view)
    return JsonResponse(map_points(user=request.user, query=form.query(), view=view.viewport()))


@require_GET
@login_required
def heat(request: HttpRequest) -> HttpResponse:
    form, view, choice = MapFilterForm(request.GET), ViewportForm(request.GET), HeatForm(request.GET)
    for each in (form, view, choice):
        if not each.is_valid():
            return _bad(each)
    return _json(
        map_heat(
            user=request.user,
            query=form.query(),
            view=view.viewport(),
            metric=choice.cleaned_data["metric"],
            level=choice.cleaned_data["area"],
            white_space=choice.cleaned_data["white_space"],
            period=str(choice.cleaned_data["period"] or ""),
        )
    )


@require_GET
@login_required
def reps(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"reps": map_rep_locations(user=request.user)})


@require_GET
@login_required
def territory_card(request: HttpRequest, pk: int) -> HttpResponse:
    card = map_territory_card(user=request.user, pk=pk)
    return render(request, "analytics/map.html#territory-card", {"card": card})


@require_GET
@login_required
def account_card(request: HttpRequest, pk: int) -> HttpResponse:
    account, where = map_account_card(user=request.user, pk=pk)
    return render(request, "analytics/map.html#account-card", {"account": account, "where": where})


@require_POST
@login_required
def share_location(request: HttpRequest) -> HttpResponse:
    form = ShareLocationForm(request.POST)
    if map_location_shared(user=request.user) is None or not form.is_valid():
        messages.error(request, "Only people with a sales profile can share a location.")
        return redirect("map:index")
    share = form.cleaned_data["share"]
    profile_set_share_location(user=request.user, share=share)
    messages.success(
        request,
        "Your home location is now shown to your managers."
        if share
        else "Your location is no longer shown on the map.",
    )
    return redirect("map:index")


CARRIED = ("bbox", "polygon", "zoom", "level", "territory", "status", "type", "industry", "size")


def _carry(request: HttpRequest) -> list[tuple[str, str]]:
    """The rectangle and filters, carried as hidden fields from one step to the next."""
    return [(key, value) for key in CARRIED for value in request.POST.getlist(key)]


def _adjust_forms(request: HttpRequest) -> tuple[MapFilterForm, ViewportForm, AdjustForm]:
    if not adjust_allowed(request.user):
        raise Http404("No such page")  # reps: the map has nothing to adjust for them
    return MapFilterForm(request.POST), ViewportForm(request.POST), AdjustForm(request.POST)


@require_POST
@login_required
def adjust_preview_view(request: HttpRequest) -> HttpResponse:
    """The accounts in a drawn rectangle, where they may go, and the impact of moving them."""
    filters, view, adjust = _adjust_forms(request)
    if not (filters.is_valid() and view.is_valid() and adjust.is_valid()):
        return render(request, "analytics/map.html#adjust-invalid", {"forms": (filters, view, adjust)}, status=400)
    ids = adjust_selection(
        user=request.user, query=filters.query(), view=view.viewport(), lasso=adjust.cleaned_data["polygon"]
    )
    preview = adjust_preview(user=request.user, account_ids=ids, to_territory=adjust.cleaned_data["to_territory"])
    return render(request, "analytics/map.html#adjust-preview", {"preview": preview, "carry": _carry(request)})


@require_POST
@login_required
def adjust_propose_view(request: HttpRequest) -> HttpResponse:
    """A draft reassignment proposal for the rectangle's accounts: never a change of the plan."""
    filters, view, adjust = _adjust_forms(request)
    if not (filters.is_valid() and view.is_valid() and adjust.is_valid()):
        return render(request, "analytics/map.html#adjust-invalid", {"forms": (filters, view, adjust)}, status=400)
    data = adjust.cleaned_data
    ids = adjust_selection(user=request.user, query=filters.query(), view=view.viewport(), lasso=data["polygon"])
    try:
        proposal = adjust_propose(
            user=request.user,
            account_ids=ids,
            to_territory=data["to_territory"] or 0,
            effective_date=data["effective_date"] or timezone.localdate(),
            reason=data["reason"],
        )
    except ReassignmentError as exc:
        preview = adjust_preview(user=request.user, account_ids=ids, to_territory=data["to_territory"])
        preview.problems.update(exc.messages)
        return render(
            request, "analytics/map.html#adjust-preview", {"preview": preview, "carry": _carry(request)}, status=400
        )
    return render(request, "analytics/map.html#adjust-done", {"proposal": proposal})
