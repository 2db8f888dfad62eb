"""What analytics does when ``territories`` announces a change (``territories.hooks``), connected
in ``AnalyticsConfig.ready``: redraw the map boundaries of a changed active plan in a task, and
rebuild its stored figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from analytics.map_layers import map_layer_request
from analytics.models import CoverageFigures, FiguresBuild, MapLayer
from analytics.services import coverage_request, figures_request
from territories import hooks
from territories.models import TerritoryPlan


def redraw_on_plan_change(*, plan_id: int, **_: Any) -> None:
    # Only the active plan is drawn, and only once someone has opened its map: a plan nobody
    # looks at on the map costs no drawing. A change that left the version alone (a rep slot)
    # finds its layer already asked for.
    if not MapLayer.objects.filter(plan_id=plan_id).exists():
        return
    plan = TerritoryPlan.active()
    if plan is not None and plan.pk == plan_id:
        map_layer_request(plan=plan)


def figures_on_plan_change(*, plan_id: int, **_: Any) -> None:
    # The stored figures of the plan's periods may have moved with the tree or the slots: rebuild
    # them (the pages keep showing the previous build, labelled "refreshing", meanwhile). A zero
    # max age queues a build even over a pending one, which may have read the tree before the change.
    for build in FiguresBuild.objects.filter(plan_id=plan_id).select_related("plan", "period"):
        figures_request(plan=build.plan, period=build.period, max_age=dt.timedelta(0), build=build)
    for stored in CoverageFigures.objects.filter(plan_id=plan_id).select_related("plan"):
        coverage_request(plan=stored.plan, max_age=dt.timedelta(0), stored=stored)


def connect() -> None:
    hooks.plan_changed.connect(redraw_on_plan_change, dispatch_uid="analytics.redraw_on_plan_change")
    hooks.plan_changed.connect(figures_on_plan_change, dispatch_uid="analytics.figures_on_plan_change")
