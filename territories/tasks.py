"""Background tasks (django-q2) of the territory map. Each takes ids or nothing and calls one
service."""

from __future__ import annotations

from territories import coverage
from territories.grants import grants_sync

DAILY_REFRESH = "territories.tasks.coverage_daily_refresh"


def coverage_daily_refresh() -> int:
    """Runs every day (a django-q2 schedule created by migration ``0002``). Owners are computed on
    read for the day asked, so nothing about them is stored; the territory permissions are, so the
    ones of assignments that start today or ended yesterday are resynchronised. Returns how many
    assignments changed."""
    changed = list(coverage.changes_on().values_list("territory_id", "user_id"))
    if changed:
        grants_sync(territories={t for t, _ in changed}, users={u for _, u in changed})
    return len(changed)
