"""The "Approvals" navigation item and its badge: one indexed count per page for the roles that
approve (admins, directors, managers: the only people a policy's relations and named steps
reach); nothing for reps. "Proposals" for everyone with a role. And ``may_propose``
(``planning.reassignments.access``) for the "Propose a move" buttons of the territory and
account pages, which live in lower layers."""

from __future__ import annotations

from django.http import HttpRequest

from planning.approvals.selectors import waiting_count
from planning.reassignments.access import may_propose
from salesos.roles import approves, role_of


def approvals(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not approves(user):
        return {}
    return {"approvals_nav": True, "approvals_waiting": waiting_count(user)}


# The proposal pages' url names: while on one, "Proposals" is the current navigation item
# (not "Planning", whose namespace they share).
PROPOSAL_PAGES = frozenset({"proposals", "proposal", "proposal_new", "proposal_edit", "proposal_deals",
                            "proposal_from_queue"})


def proposals(request: HttpRequest) -> dict:
    """"Proposals" in the navigation for every role (reps follow the proposals moving their own
    book); no query."""
    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated and role_of(user) is not None)
    match = getattr(request, "resolver_match", None)
    current = bool(match is not None and match.namespace == "planning" and match.url_name in PROPOSAL_PAGES)
    return {"may_propose": signed_in and may_propose(user), "proposals_nav": signed_in,
            "proposals_current": current}
