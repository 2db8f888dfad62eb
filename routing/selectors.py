"""Reads for the routing pages: the unassigned queue and the conflicts list (a record's
explanation is ``routing.explain``, its stored trace ``routing.traces``). Each page costs a fixed
number of queries whatever the data size (pinned in tests/routing/test_views.py).

Where an account sits comes from ``territories.placement`` (its current primary row); why it sits
there is the row's shared ``RoutingDecision``, rebuilt into a full trace by ``decision_trace``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet

from routing.traces import TerritoryMask, attach_territories, decision_traces, trace_territories, trace_view
from salesos.models import Account
from salesos.roles import works_queue
from territories import placement
from territories.access import sees_everything
from territories.models import AccountTerritory, Territory, TerritoryPlan
from territories.selectors import territories_visible_to

QUEUE_PAGE_SIZE = 50
CONFLICTS_PAGE_SIZE = 50
# How many territories the route/lock inputs offer before the user types (the rest are found by
# the search endpoint, so a plan of 10,000 territories does not ship 10,000 options).
TARGET_OPTIONS_LIMIT = 300
active_plan = TerritoryPlan.active


# --- the unassigned queue --------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    country: str = ""
    state: str = ""
    industry: str = ""  # a code prefix: "62" finds 621111 and 622110
    since: dt.date | None = None
    q: str = ""

    def as_params(self) -> dict[str, str]:
        params = {
            "country": self.country,
            "state": self.state,
            "industry": self.industry,
            "since": self.since.isoformat() if self.since else "",
            "q": self.q,
        }
        return {k: v for k, v in params.items() if v}

    @property
    def querystring(self) -> str:
        """The filters as a query string, for pager links (empty when no filter is set)."""
        return urlencode(self.as_params())

    @property
    def active(self) -> bool:
        return bool(self.as_params())


def unassigned_accounts(*, filters: QueueFilters | None = None, plan: TerritoryPlan | None = None) -> QuerySet[Account]:
    """Accounts with no territory in the active plan, newest first, narrowed by the filters. Pass
    the active plan when the caller has it (saves a query per call)."""
    accounts = placement.accounts_unassigned(plan=plan)
    f = filters or QueueFilters()
    if f.country:
        accounts = accounts.filter(country=f.country)
    if f.state:
        accounts = accounts.filter(state=f.state)
    if f.industry:
        accounts = accounts.filter(industry_code__startswith=f.industry)
    if f.since:
        accounts = accounts.filter(created_at__date__gte=f.since)
    if f.q:
        accounts = accounts.filter(Q(name__icontains=f.q) | Q(domain__icontains=f.q))
    return accounts.select_related("industry").order_by("-created_at", "-pk")


def unassigned_queue(
    *, filters: QueueFilters | None = None, page: int | str | None = 1, plan: TerritoryPlan | None = None
) -> Page:
    return Paginator(unassigned_accounts(filters=filters, plan=plan), QUEUE_PAGE_SIZE).get_page(page)


def route_targets(*, user, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """Territories of the plan a user may route accounts into by hand: active, not overlays (an
    overlay never owns an account), and, for managers, only their own and their team's."""
    if plan is None or not works_queue(user):
        return Territory.objects.none()
    return (
        territories_visible_to(user, plan)
        .filter(status=Territory.Status.ACTIVE, is_overlay=False)
        .order_by("code")
    )


def lock_targets(*, plan: TerritoryPlan | None) -> QuerySet[Territory]:
    """Territories an admin may lock an account to (the engine ignores locks on anything else)."""
    if plan is None:
        return Territory.objects.none()
    return Territory.objects.filter(plan=plan, status=Territory.Status.ACTIVE, is_overlay=False).order_by("code")


def territory_options(territories: QuerySet[Territory], *, term: str = "", limit: int = 50) -> list[Territory]:
    """Territories whose code or name contains ``term``, codes first, for the searchable inputs."""
    term = term.strip()[:60]
    if term:
        territories = territories.filter(Q(code__icontains=term) | Q(name__icontains=term))
    return list(territories.only("pk", "code", "name")[:limit])


# --- conflicts -------------------------------------------------------------------------------


def conflicts_page(*, user, page: int | str | None = 1) -> tuple[TerritoryPlan | None, Page]:
    """Accounts whose current territory won a tie on the lowest code, in the active plan. Below the
    admin, the ones won by territories visible to the user; a tied loser they may not see is shown
    as another team's (``TerritoryMask``). Each row gets ``view``: its trace with the
    tied candidates attached to their territories (one query for the whole page)."""
    plan = active_plan()
    rows = AccountTerritory.objects.none()
    if plan is not None and works_queue(user):
        rows = AccountTerritory.objects.filter(
            plan=plan, is_primary=True, valid_to__isnull=True, conflict=True
        ).select_related("account", "territory", "decision")
        if not sees_everything(user):  # managers their team's, directors their subtrees'
            rows = rows.filter(territory__in=territories_visible_to(user, plan).values("pk"))
        rows = rows.order_by("territory__code", "account__name", "pk")
    result = Paginator(rows, CONFLICTS_PAGE_SIZE).get_page(page)
    views = []
    for row, data in zip(result, decision_traces(result), strict=True):
        row.view = trace_view(data)  # type: ignore[attr-defined]
        views.append(row.view)  # type: ignore[attr-defined]
    attach_territories(views, {row.territory_id: row.territory for row in result})
    mask = TerritoryMask(user=user, plan=plan, territories=[
        *(row.territory for row in result), *trace_territories(*views),
    ])
    for row in result:
        row.shown = mask.shown(row.territory)  # type: ignore[attr-defined]
        mask.trace(row.view)  # type: ignore[attr-defined]
    return plan, result
