"""The permission matrix's table: every URL pattern of the project -> what each role gets, for
its own object and a foreign one (``tests/test_permission_matrix.py`` runs it and explains the
world it runs in). A new view needs a row here, or a place in ``SKIPPED``."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("admin", "director", "manager", "rep")

# Not in the matrix, on purpose: the admin site (staff login of its own), the login and logout
# views (anonymous by design), the health check (public), and the lead-routing API (token auth,
# no session: its own tests cover tokens).
SKIPPED = {
    "admin/*",
    "login/",
    "logout/",
    "healthz",
    "api/v1/^route/?$",
    "api/v1/^leads/?$",
    "api/v1/<path:rest>",
    "api/v1/",
}


@dataclass(frozen=True)
class Row:
    kind: str  # what the URL's ids point at: "" (none), territory, account, lead, job, notification, assignment,
    # reassignment (a proposal),
    # fiscal_year (the organisation's: the same year is "own" and "foreign")
    method: str  # GET, or POST for POST-only views
    expect: dict  # role -> status (no object) or role -> (own, foreign); missing objects always 404


def same(status: int) -> dict:
    return {role: status for role in ROLES}


def obj(admin, director, manager, rep) -> dict:
    """(own, foreign) per role."""
    return {"admin": admin, "director": director, "manager": manager, "rep": rep}


SEEN = (200, 404)  # own object visible, foreign one not
MATRIX: dict[str, Row] = {
    # --- core
    "": Row("", "GET", same(200)),
    # --- accounts and leads
    "accounts/": Row("", "GET", same(200)),  # each role its own accounts (tests/salesos/test_record_lists.py)
    "accounts/export.csv": Row("", "GET", same(200)),
    "leads/": Row("", "GET", same(200)),
    "leads/export.csv": Row("", "GET", same(200)),
    "accounts/new/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "accounts/state-options/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "accounts/<int:pk>/": Row("account", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    # whoever sees an account may log an activity on it (the valid post redirects back)
    "accounts/<int:pk>/activities/": Row("account", "POST", obj((302, 302), (302, 404), (302, 404), (302, 404))),
    "accounts/<int:pk>/edit/": Row("account", "GET", obj((200, 200), SEEN, SEEN, (404, 404))),
    "accounts/leads/<int:pk>/": Row("lead", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    # --- territories: tree, list, page, move (territories.views)
    "territories/": Row("", "GET", same(200)),
    "territories/<int:pk>/": Row("territory", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    # without htmx the children partial sends the browser to the tree focused on that node
    "territories/<int:pk>/children/": Row("territory", "GET", obj((302, 302), (302, 404), (302, 404), (302, 404))),
    "territories/<int:pk>/move/": Row("territory", "POST", obj((302, 302), (404, 404), (404, 404), (404, 404))),
    # --- territories: create, edit, delete, rule builder (territories.views_edit)
    "territories/new/": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    "territories/<int:pk>/edit/": Row("territory", "GET", obj((200, 200), SEEN, SEEN, (404, 404))),
    "territories/<int:pk>/delete/": Row("territory", "GET", obj((200, 200), SEEN, (404, 404), (404, 404))),
    "territories/builder/cond/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "territories/builder/group/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "territories/builder/options/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "territories/builder/chip/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    # without a territory the preview is for a new one: only those who may create get it
    "territories/builder/preview/": Row("", "POST", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    # --- territories: assignment (territories.views_assign)
    "territories/<int:pk>/assignments/": Row("territory", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    # An unconfirmed POST shows what ending would do (200) and ends nothing.
    "territories/<int:pk>/assignments/<int:aid>/end/": Row(
        "assignment", "POST", obj((200, 200), (200, 404), (200, 404), (404, 404))
    ),
    "territories/assignments/upload/": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    "territories/assignments/template.csv": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    "territories/assignments/propose/": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    # --- routing
    "routing/": Row("", "GET", same(200)),  # reps get the "managed by sales ops" note
    # an empty form re-renders the queue with its errors (200)
    "routing/route/": Row("", "POST", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "routing/territory-options/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "routing/conflicts/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "routing/accounts/<int:pk>/explain/": Row("account", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    "routing/accounts/<int:pk>/lock/": Row("account", "POST", obj((200, 200), (404, 404), (404, 404), (404, 404))),
    "routing/leads/<int:pk>/explain/": Row("lead", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    "routing/jobs/": Row("", "GET", {"admin": 200, "director": 404, "manager": 404, "rep": 404}),
    "routing/jobs/start/": Row("", "POST", {"admin": 302, "director": 404, "manager": 404, "rep": 404}),
    "routing/jobs/<int:pk>/": Row("job", "GET", obj((200, 200), (404, 404), (404, 404), (404, 404))),
    "routing/notifications/": Row("", "GET", same(200)),
    "routing/notifications/<int:pk>/read/": Row("notification", "POST", obj(*[(302, 404)] * 4)),
    "routing/notifications/read-all/": Row("", "POST", same(302)),
    # --- planning and analytics
    "planning/": Row("", "GET", same(200)),
    # plan export (a JSON download) and import (an empty upload is a form error): admins only
    "planning/plans/<int:pk>/export.json": Row("plan", "GET", obj((200, 200), *[(404, 404)] * 3)),
    "planning/plans/import/": Row("", "POST", {"admin": 400, "director": 404, "manager": 404, "rep": 404}),
    # the plan lifecycle: a plan's page and its actions are for admins and directors (a manager opens
    # a draft shared with them: tests/planning/test_plan_pages.py); the matrix plan is active, so
    # every action is refused with a message and goes back to the plan's page (302)
    "planning/plans/<int:pk>/": Row("plan", "GET", obj((200, 200), (200, 200), (404, 404), (404, 404))),
    **{f"planning/plans/<int:pk>/{action}/": Row("plan", "POST", obj((302, 302), (302, 302), (404, 404), (404, 404)))
       for action in ("copy", "share", "submit", "decide", "back-to-draft", "comment", "schedule", "unschedule",
                      "reactivate")},
    # fiscal calendar and settings: sales ops admins only (an empty POST re-renders with errors, 400)
    "planning/fiscal/": Row("", "GET", {"admin": 200, "director": 404, "manager": 404, "rep": 404}),
    "planning/fiscal/settings/": Row("", "POST", {"admin": 400, "director": 404, "manager": 404, "rep": 404}),
    "planning/fiscal/years/": Row("", "POST", {"admin": 400, "director": 404, "manager": 404, "rep": 404}),
    # capacity planner: admins everything, directors the subtrees they lead (bodies checked below)
    # the simulator: admins and directors (directors see the territories they may see, bodies
    # checked below); managers see only drafts shared with them (none here), reps nothing
    "planning/plans/<int:pk>/simulation/": Row("draft", "GET", obj((200, 200), (200, 200), (404, 404), (404, 404))),
    # a run while one is queued is refused with a message; both answer with the page (302)
    "planning/plans/<int:pk>/simulation/run/": Row(
        "draft", "POST", obj((302, 302), (302, 302), (404, 404), (404, 404))
    ),
    # managers compare the drafts shared with them (none here: an empty choice)
    "planning/simulations/compare/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "planning/capacity/": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    # rebalancing: admins everything, directors the territories they plan; a POST without a
    # suggestion goes back to the page with a message (302)
    "planning/rebalance/": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    "planning/rebalance/propose/": Row("", "POST", {"admin": 302, "director": 302, "manager": 404, "rep": 404}),
    # quota planning: admins everything, directors the subtrees they lead (bodies checked below)
    "planning/years/<int:pk>/quotas/": Row("fiscal_year", "GET", obj((200, 200), (200, 200), (404, 404), (404, 404))),
    "planning/years/<int:pk>/quotas.csv": Row(
        "fiscal_year", "GET", obj((200, 200), (200, 200), (404, 404), (404, 404))
    ),
    "planning/fiscal/years/<int:pk>/periods/": Row(
        "fiscal_year", "POST", obj((302, 302), (404, 404), (404, 404), (404, 404))
    ),
    # --- reassignment proposals: the list (each role its own scope), a proposal (own: it moves
    # side A's account, so side A's rep sees it too; foreign: side B's), the executed mid-year
    # changes, the organisation's settings (admins; an empty POST re-renders with errors, 400)
    "planning/proposals/": Row("", "GET", same(200)),
    # propose a move: reps cannot; the others get the territory chooser (the form itself, for own
    # and foreign territories and accounts, is probed below and in tests/planning/test_propose_page.py)
    "planning/proposals/new/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "planning/proposals/<int:pk>/": Row("reassignment", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    # propose from the unassigned queue: without ticked accounts the queue page's button sends back
    # to the queue with a message (302); reps neither work the queue nor propose
    "planning/proposals/from-queue/": Row("", "POST", {"admin": 302, "director": 302, "manager": 302, "rep": 404}),
    # editing a draft: only its initiator (the manager's own proposal is executed, so frozen: back
    # to its page with a message, 302); whoever else sees it gets 404 (tests/planning/test_draft_pages.py)
    "planning/proposals/<int:pk>/edit/": Row("reassignment", "GET", obj((404, 404), (404, 404), (302, 404),
                                                                         (404, 404))),
    # the manual deal grid: whoever sees the proposal sees it (read-only unless theirs and editable)
    "planning/proposals/<int:pk>/deals/": Row("reassignment", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    # submit and withdraw answer with the proposal's page (302) and a message; only its initiator
    # (or, to withdraw, an admin) changes anything (tests/planning/test_proposal_pages.py)
    "planning/proposals/<int:pk>/submit/": Row("reassignment", "POST", obj((302, 302), *[(302, 404)] * 3)),
    "planning/proposals/<int:pk>/withdraw/": Row("reassignment", "POST", obj((302, 302), *[(302, 404)] * 3)),
    "planning/proposals/settings/": Row("", "GET", {"admin": 200, "director": 404, "manager": 404, "rep": 404}),
    "planning/proposals/settings/save/": Row("", "POST", {"admin": 400, "director": 404, "manager": 404, "rep": 404}),
    "planning/proposals/settings/preview/": Row(
        "", "POST", {"admin": 200, "director": 404, "manager": 404, "rep": 404}
    ),
    "planning/changes/": Row("", "GET", same(200)),
    "analytics/": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 302}),  # reps: performance
    # --- approvals inbox: everyone's own (empty for most); a decision only where a task waits for
    # the user (an empty POST is a form error, 400); a proposal that does not ask them is 404
    "approvals/": Row("", "GET", same(200)),
    "approvals/<int:pk>/decide/": Row("approval_subject", "POST", obj(*[(400, 404)] * 4)),
    # --- approval policies: sales ops admins only (an empty new-policy POST is a form error, 400;
    # deleting the only active policy is refused and sends back to it, 302)
    "approvals/policies/": Row("", "GET", {"admin": 200, "director": 404, "manager": 404, "rep": 404}),
    "approvals/policies/new/": Row("", "POST", {"admin": 400, "director": 404, "manager": 404, "rep": 404}),
    "approvals/policies/step-row/": Row("", "GET", {"admin": 200, "director": 404, "manager": 404, "rep": 404}),
    "approvals/policies/<int:pk>/": Row("approval_policy", "GET", obj((200, 200), *[(404, 404)] * 3)),
    "approvals/policies/<int:pk>/move/": Row("approval_policy", "POST", obj((302, 302), *[(404, 404)] * 3)),
    "approvals/policies/<int:pk>/delete/": Row("approval_policy", "POST", obj((302, 302), *[(404, 404)] * 3)),
    "analytics/coverage.csv": Row("", "GET", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "analytics/performance/": Row("", "GET", same(200)),  # each role its own part (tests/analytics)
    "analytics/performance.csv": Row("", "GET", same(200)),
    # --- the map: every role sees the map of what it may see (tests/analytics/test_map.py)
    "map/": Row("", "GET", same(200)),
    "map/base.json": Row("", "GET", same(200)),  # reference outlines only
    "map/boundaries.json": Row("", "GET", same(200)),
    "map/points.json": Row("", "GET", same(200)),
    "map/heat.json": Row("", "GET", same(200)),
    "map/reps.json": Row("", "GET", same(200)),  # an empty list for reps
    "map/territories/<int:pk>/card/": Row("territory", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    "map/accounts/<int:pk>/card/": Row("account", "GET", obj((200, 200), SEEN, SEEN, SEEN)),
    "map/location/": Row("", "POST", same(302)),  # one's own opt-in, nobody else's
    # drag-to-adjust: the selection (the whole world without a rectangle) and what it would do;
    # proposing without a destination is refused with the reasons (400); reps may not propose
    "map/adjust/preview/": Row("", "POST", {"admin": 200, "director": 200, "manager": 200, "rep": 404}),
    "map/adjust/propose/": Row("", "POST", {"admin": 400, "director": 400, "manager": 400, "rep": 404}),
    "analytics/forecast/": Row("", "GET", same(200)),
    "analytics/compare/": Row("", "GET", same(200)),
    "analytics/compare.csv": Row("", "GET", same(200)),
    "analytics/forecast.csv": Row("", "GET", same(200)),
    "analytics/credit/": Row("", "GET", same(200)),
    "analytics/credit.csv": Row("", "GET", same(200)),
    "analytics/year-over-year/": Row("", "GET", same(200)),  # each role its own part (tests/analytics)
    # plan data (data preparation): planners only, directors their part (bodies checked below)
    "analytics/plan-data/": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    "analytics/plan-data/territories.csv": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    "analytics/plan-data/assignments.csv": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    "analytics/plan-data/metrics.csv": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
    "analytics/plan-data/plan.xlsx": Row("", "GET", {"admin": 200, "director": 200, "manager": 404, "rep": 404}),
}
