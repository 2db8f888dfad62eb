"""The "Approvals" navigation item and its badge: one indexed count per page for the roles that
approve (admins, directors, managers: the only people a policy's relations and named steps
reach); nothing for reps. And ``may_propose`` (``planning.reassignments.access``) for the
"Propose a move" buttons of the territory and account pages, which live in lower layers."""

from __future__ import annotations

from django.http import HttpRequest

from planning.approvals.selectors import waiting_count
from planning.reassignments.access import may_propose
from salesos.roles import approves


def approvals(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not approves(user):
        return {}
    return {"approvals_nav": True, "approvals_waiting": waiting_count(user)}


def proposals(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    return {"may_propose": bool(user is not None and user.is_authenticated and may_propose(user))}
