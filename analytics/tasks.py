"""Scheduled analytics work (django-q2)."""

from __future__ import annotations

from analytics import map_layers
from analytics.services import coverage_snapshot_take

DAILY_SNAPSHOT = "analytics.tasks.coverage_snapshot_daily"


def coverage_snapshot_daily() -> int:
    """Runs every day (a schedule created by migration ``0002``): records today's coverage for the
    dashboard's trend and white space. Returns the company snapshots id (0 without an active plan)."""
    snapshot = coverage_snapshot_take()
    return 0 if snapshot is None else snapshot.pk


def map_layer_build(layer_id: int) -> str:
    """Draws a plan's boundary layer asked for by ``analytics.map_layers.map_layer_request``."""
    return map_layers.map_layer_build(layer_id=layer_id)
