"""Scheduled analytics work (django-q2)."""

from __future__ import annotations

from analytics.services import coverage_snapshot_take

DAILY_SNAPSHOT = "analytics.tasks.coverage_snapshot_daily"


def coverage_snapshot_daily() -> int:
    """Runs every day (a schedule created by migration ``0002``): records today's coverage for the
    dashboard's trend and white space. Returns the company snapshots id (0 without an active plan)."""
    snapshot = coverage_snapshot_take()
    return 0 if snapshot is None else snapshot.pk
