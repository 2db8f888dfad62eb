"""The map's reads, scoped to the user: the boundary layer, clustered accounts, heat maps, white
space, rep locations and the cards a click opens.

Scope (``map_scope``) comes from ``territories.access``: admins see every territory and every
account; everyone else the territories of the active plan they may see (reps their own, managers
their team's, directors their subtrees) and the accounts placed in them, plus the unassigned
accounts for the roles that work the unassigned queue (``salesos.roles.works_queue``), as on the
accounts list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from analytics.geo import BoundaryLayer
from analytics.map_heat import AREA_METRICS, heat_layer
from analytics.map_heat_territory import territory_heat
from analytics.map_layers import LayerBody, boundaries_current, layer_body, layer_body_empty
from analytics.map_points import PointFilter, PointTable, Viewport, clusters, mask_of, point_table
from analytics.map_white_space import EMPTY as WHITE_SPACE_EMPTY
from analytics.map_white_space import white_space_layer, white_space_now
from analytics.selectors.periods import period_choice
from analytics.selectors.scope import scope_for
from salesos.models import Account, SalesProfile
from salesos.roles import is_admin, leads_team, role_of, works_queue
from territories.access import account_get_for_user, territories_for_user, territory_get_for_user
from territories.coverage import owners_on
from territories.models import Territory, TerritoryPlan
from territories.placement import Placement, placement
from territories.selectors import account_count_of, display_name, open_pipeline_of

Role = SalesProfile.Role
User = get_user_model()


@dataclass(frozen=True)
class MapScope:
    plan: TerritoryPlan | None
    territories: frozenset[int] | None  # None: all of them
    unassigned_visible: bool

    @property
    def empty(self) -> bool:
        return self.plan is None and not self.unassigned_visible


def map_scope(user) -> MapScope:
    plan = TerritoryPlan.active()
    if role_of(user) is None:
        return MapScope(None, frozenset(), False)
    if is_admin(user):
        return MapScope(plan, None, True)
    visible = frozenset(territories_for_user(user=user, plan=plan).values_list("pk", flat=True))
    return MapScope(plan, visible, works_queue(user))


def _subtree(plan: TerritoryPlan, root_id: int) -> frozenset[int]:
    return frozenset(
        Territory.objects.descendants(Territory(pk=root_id), include_self=True)
        .filter(plan=plan)
        .values_list("pk", flat=True)
    )


@dataclass(frozen=True)
class MapQuery:
    """The page's filters, parsed and validated by the view's form."""

    statuses: frozenset[str] = frozenset()
    sectors: frozenset[str] = frozenset()
    bands: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    level: str = "leaf"  # "leaf", "all" or a depth "0", "1", ...
    territory: int | None = None  # a subtree root


def _point_filter(scope: MapScope, query: MapQuery) -> PointFilter:
    only = _subtree(scope.plan, query.territory) if scope.plan is not None and query.territory else None
    return PointFilter(
        territories=scope.territories,
        unassigned_visible=scope.unassigned_visible and only is None,
        statuses=query.statuses,
        sectors=query.sectors,
        bands=query.bands,
        types=query.types,
        only=only,
    )


def _table(scope: MapScope) -> PointTable:
    return point_table(scope.plan)


# --- boundaries -------------------------------------------------------------------------------


def boundary_ids(layer: BoundaryLayer, scope: MapScope, query: MapQuery) -> list[int]:
    """The drawn territories the user may see that the filters keep, in layer order."""
    only = _subtree(scope.plan, query.territory) if scope.plan is not None and query.territory else None
    picked = []
    for pk in layer.features:
        if scope.territories is not None and pk not in scope.territories:
            continue
        if only is not None and pk not in only:
            continue
        if query.types and layer.kind[pk] not in query.types:
            continue
        if query.level == "leaf" and not layer.leaf[pk]:
            continue
        if query.level.isdigit() and layer.depth[pk] != int(query.level):
            continue
        picked.append(pk)
    return picked


def map_boundaries_body(*, user, query: MapQuery) -> LayerBody:
    """The GeoJSON of the territories the user may see (the active plan), as stored bytes with
    their ETag: the same selection is joined and compressed once per process (``layer_body``)."""
    scope = map_scope(user)
    if scope.plan is None:
        return layer_body_empty()
    layer, state = boundaries_current(scope.plan)
    return layer_body(layer, boundary_ids(layer, scope, query), state)


def map_boundaries(*, user, query: MapQuery) -> str:
    """The same GeoJSON as text."""
    return map_boundaries_body(user=user, query=query).raw.decode()


def map_levels(*, user) -> int:
    """The deepest level of the plan's drawn tree (for the level filter)."""
    scope = map_scope(user)
    if scope.plan is None:
        return 0
    return boundaries_current(scope.plan)[0].max_depth


# --- points and heat --------------------------------------------------------------------------


def map_points(*, user, query: MapQuery, view: Viewport) -> dict[str, Any]:
    scope = map_scope(user)
    if scope.empty:
        return {"zoom": view.zoom, "total": 0, "clusters": [], "pins": [], "truncated": False}
    return clusters(_table(scope), _point_filter(scope, query), view)


def map_heat(
    *,
    user,
    query: MapQuery,
    view: Viewport,
    metric: str,
    level: str,
    white_space: bool = False,
    period: str | None = None,
) -> str:
    """A choropleth of ``metric`` at ``level``; ``white_space``: the white-space areas instead
    (``analytics.white_space``, the dashboard's definition), for the roles that see the
    unassigned queue. Quota attainment is drawn over territories whatever ``level`` says;
    ``period`` picks its fiscal period (an id)."""
    scope = map_scope(user)
    if white_space:
        if scope.plan is None or not scope.unassigned_visible:
            return WHITE_SPACE_EMPTY
        return white_space_layer(white_space_now(scope.plan, _table(scope)), metric=metric)
    if scope.empty:
        return '{"type":"FeatureCollection","legend":null,"features":[]}'
    table = _table(scope)
    if level == "territory" or metric not in AREA_METRICS:
        if scope.plan is None:
            return '{"type":"FeatureCollection","legend":null,"features":[]}'
        layer, _ = boundaries_current(scope.plan)
        return territory_heat(
            layer=layer,
            ids=boundary_ids(layer, scope, query),
            scope=scope_for(user, scope.plan),
            choice=period_choice(period),
            metric=metric,
            table=table,
            mask=mask_of(table, _point_filter(scope, query)),
        )
    return heat_layer(table, mask_of(table, _point_filter(scope, query)), metric=metric, level=level, view=view)


# --- rep locations ------------------------------------------------------------------------------


def location_viewers_scope(user) -> QuerySet[SalesProfile]:
    """Profiles whose shared location ``user`` may see: everyone's for admins, their reports'
    (and their reports' reports) for managers and directors, nobody's for reps."""
    profiles = SalesProfile.objects.filter(share_location=True, home_lat__isnull=False, home_lon__isnull=False)
    if is_admin(user):
        return profiles
    if leads_team(role_of(user)):
        return profiles.filter(Q(manager=user) | Q(manager__sales_profile__manager=user))
    return profiles.none()


def map_rep_locations(*, user) -> list[dict[str, Any]]:
    rows = (
        location_viewers_scope(user)
        .values_list(
            "user_id",
            "user__first_name",
            "user__last_name",
            "user__username",
            "title",
            "home_city",
            "home_lat",
            "home_lon",
        )
        .order_by("user__username")
    )
    return [
        {
            "id": uid,
            "name": display_name(first, last, username),
            "title": title,
            "city": city,
            "lat": round(lat or 0.0, 4),
            "lon": round(lon or 0.0, 4),
        }
        for uid, first, last, username, title, city, lat, lon in rows
    ]


def map_location_shared(*, user) -> bool | None:
    """Whether the user shares their location (None: no sales profile, nothing to share)."""
    return SalesProfile.objects.filter(user=user).values_list("share_location", flat=True).first()


# --- cards ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TerritoryCard:
    territory: Territory
    accounts: int
    open_pipeline: Any
    owner: str


def map_territory_card(*, user, pk: int) -> TerritoryCard:
    territory = territory_get_for_user(user=user, pk=pk)
    figures = (
        Territory.objects.filter(pk=territory.pk)
        .annotate(n=account_count_of(), pipeline=open_pipeline_of())
        .values("n", "pipeline")
        .get()
    )
    held = owners_on(territory_ids=[territory.pk]).get(territory.pk)
    owner = ""
    if held is not None and held.owner is not None:
        person = User.objects.filter(pk=held.owner).values_list("first_name", "last_name", "username").first()
        owner = display_name(*person) if person else ""
    return TerritoryCard(territory, figures["n"], figures["pipeline"], owner)


def map_account_card(*, user, pk: int) -> tuple[Account, Placement]:
    account = account_get_for_user(user=user, pk=pk)
    return account, placement(account)
