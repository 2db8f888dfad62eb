"""What analytics does when ``territories`` announces a change (``territories.hooks``), connected
in ``AnalyticsConfig.ready``: redraw the map boundaries of a changed active plan in a task."""

from __future__ import annotations

from typing import Any

from analytics.map_layers import map_layer_request
from analytics.models import MapLayer
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


def connect() -> None:
    hooks.plan_changed.connect(redraw_on_plan_change, dispatch_uid="analytics.redraw_on_plan_change")
