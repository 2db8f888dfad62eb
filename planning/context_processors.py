"""The "Approvals" navigation item and its badge: one indexed count per page for the roles that
approve (admins, directors, managers: the only people a policy's relations and named steps
reach); nothing for reps."""

from __future__ import annotations

from django.http import HttpRequest

from planning.approvals.selectors import waiting_count
from salesos.roles import approves


def approvals(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not approves(user):
        return {}
    return {"approvals_nav": True, "approvals_waiting": waiting_count(user)}
