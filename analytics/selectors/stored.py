"""Territories' own figures for a period, read from the store (``analytics.models.FiguresBuild``,
written by ``analytics.figures``) when it holds every territory the user sees, else computed live.

The store keeps each territory's OWN figures, computed by the pages' own selectors over the whole
plan; the page still sums them over the part of the tree the user sees (``Scope.rollup``), so a
stored figure is the live one as of the build, for every role. While no build exists (or a
territory is newer than the build), the page computes live (correct, slower) and asks for one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from analytics.models import CoverageFigures, CreditFigures, FiguresBuild, TerritoryFigures
from analytics.selectors.periods import PeriodChoice
from analytics.selectors.scope import Scope
from analytics.services import coverage_request, figures_request
from territories.models import TerritoryPlan

# Below this many territories the rows are fetched by id; above it the whole build is read (one
# scan of a few thousand narrow rows beats a long IN list).
BY_ID_UP_TO = 500


@dataclass
class Freshness:
    """How old the figures shown are: ``as_of`` None means computed live for this request."""

    as_of: dt.datetime | None = None
    refreshing: bool = False

    @property
    def stored(self) -> bool:
        return self.as_of is not None


def max_age() -> dt.timedelta:
    return dt.timedelta(seconds=settings.ANALYTICS_FIGURES_MAX_AGE)


def stored_or_live(
    *, scope: Scope, choice: PeriodChoice, keys: Iterable[str], live: Callable[..., dict[int, dict]]
) -> tuple[dict[int, dict], Freshness]:
    """``keys`` of each territory's own figures in ``scope`` for the chosen period: from the store
    (two queries) or, failing that, ``live(scope=..., choice=...)`` plus a request for a build."""
    if scope.plan is None or choice.period is None or not scope.nodes:
        return live(scope=scope, choice=choice), Freshness()
    keys = tuple(keys)
    build = FiguresBuild.objects.filter(plan=scope.plan, period=choice.period).first()
    if build is None or build.built_at is None:
        figures_request(plan=scope.plan, period=choice.period, max_age=max_age(), build=build)
        return live(scope=scope, choice=choice), Freshness(refreshing=True)
    rows = TerritoryFigures.objects.filter(build=build)
    if len(scope.nodes) <= BY_ID_UP_TO:
        rows = rows.filter(territory_id__in=list(scope.nodes))
    stored: dict[int, dict[str, Any]] = {
        row["territory_id"]: {k: row[k] for k in keys} for row in rows.values("territory_id", *keys)
    }
    if any(pk not in stored for pk in scope.nodes):
        # A territory made since the build: its figures are not stored yet.
        figures_request(plan=scope.plan, period=choice.period, max_age=max_age(), build=build)
        return live(scope=scope, choice=choice), Freshness(refreshing=True)
    stale = timezone.now() - build.built_at > max_age()
    if stale:
        figures_request(plan=scope.plan, period=choice.period, max_age=max_age(), build=build)
    own = {pk: stored[pk] for pk in scope.nodes}
    return own, Freshness(as_of=build.built_at, refreshing=stale or build.requested_at is not None)


def stored_credit(*, scope: Scope, choice: PeriodChoice) -> tuple[list[tuple] | None, Freshness]:
    """The stored credit lines of the territories in ``scope`` as ``(user id, territory id, slot,
    deals, booked, credit)``, or None (with a build asked for) when the store cannot answer."""
    _, freshness = stored_or_live(scope=scope, choice=choice, keys=(), live=_nothing)
    if not freshness.stored:
        return None, freshness
    rows = CreditFigures.objects.filter(build__plan=scope.plan, build__period=choice.period)
    if len(scope.nodes) <= BY_ID_UP_TO:
        rows = rows.filter(territory_id__in=list(scope.nodes))
    fields = ("user_id", "territory_id", "slot", "deals", "booked", "credit")
    return [row for row in rows.values_list(*fields) if row[1] in scope.nodes], freshness


def _nothing(**_: Any) -> dict[int, dict]:
    return {}


def stored_coverage(*, plan: TerritoryPlan) -> tuple[list[dict] | None, Freshness]:
    """The company-wide region rows of the coverage dashboard from the store (one query), or
    None (with a build asked for) while none is built; stale rows come with a refresh asked for."""
    stored = CoverageFigures.objects.filter(plan=plan).first()
    if stored is None or stored.built_at is None:
        coverage_request(plan=plan, max_age=max_age(), stored=stored)
        return None, Freshness(refreshing=True)
    stale = timezone.now() - stored.built_at > max_age()
    if stale:
        coverage_request(plan=plan, max_age=max_age(), stored=stored)
    rows = [{**row, "open_pipeline": Decimal(row["open_pipeline"])} for row in stored.regions]
    return rows, Freshness(as_of=stored.built_at, refreshing=stale or stored.requested_at is not None)
