"""The permission matrix: every URL of the project x every role x (own, foreign, missing object)
answers exactly what the table below says. "Missing" and "forbidden" are the same 404.

The URL patterns are discovered from the resolver: a new view without a row here (or in
``SKIPPED``) fails ``test_every_url_is_in_the_matrix``.

Own and foreign objects per role (see ``world``): the rep holds territory A-1 (own) and not B-1
(foreign); the manager is the rep's manager; the director leads region A (A-1 is inside it, B-1
is not); the admin sees everything, so their "foreign" answers match their "own" ones.

Status codes are not the whole answer: the second half searches the bodies of every page each
role opens (and of searches, htmx partials, option lists, previews and CSV exports) for the
names and figures of side B, which no role below the admin may see.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from openpyxl import load_workbook

from planning.models import ApprovalPolicy, ApprovalTask, Reassignment, ReassignmentMove
from planning.simulation.services import simulation_run, simulation_start
from planning.transfer import plan_export, plan_import
from routing.models import Notification, RoutingJob
from salesos.models import Lead, SalesProfile
from territories.grants import grants_rebuild
from territories.models import RepAssignment
from tests import factories
from tests.permission_matrix_table import MATRIX, ROLES, SKIPPED

Role = SalesProfile.Role
MISSING = 987654
LOCATIONS = {"US-CA": (37.77, -122.42), "US-NY": (40.71, -74.0)}  # accounts are on the map


def discovered_routes() -> set[str]:
    routes: set[str] = set()

    def walk(patterns, prefix: str) -> None:
        for p in patterns:
            route = prefix + str(p.pattern)
            if route.startswith("admin/"):
                routes.add("admin/*")
            elif isinstance(p, URLResolver):
                walk(p.url_patterns, route)
            elif isinstance(p, URLPattern):
                routes.add(route)

    walk(get_resolver().url_patterns, "")
    return routes


def test_every_url_is_in_the_matrix():
    routes = discovered_routes()
    assert not (set(MATRIX) & SKIPPED)
    missing = sorted(routes - set(MATRIX) - SKIPPED)
    stale = sorted((set(MATRIX) | SKIPPED) - routes)
    assert not missing, f"views without a permission-matrix row: {missing}"
    assert not stale, f"matrix rows for URLs that no longer exist: {stale}"


# --- the world --------------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    own: dict  # role -> kind -> object (or ids)
    foreign: dict
    plan_id: int = 0
    draft_id: int = 0


@pytest.fixture
def world(db) -> World:
    fy = factories.make_fiscal_year("FY2026")
    plan = factories.make_plan(name="Matrix plan", fiscal_year=fy)
    make = factories.make_user
    admin = make(Role.ADMIN, username="m_admin")
    dir_a = make(Role.DIRECTOR, username="m_dir_a")
    dir_b = make(Role.DIRECTOR, username="m_dir_b")
    mgr_a = make(Role.MANAGER, username="m_mgr_a", manager=dir_a)
    mgr_b = make(Role.MANAGER, username="m_mgr_b", manager=dir_b)
    rep_a = make(Role.REP, username="m_rep_a", manager=mgr_a)
    rep_b = make(Role.REP, username="m_rep_b", manager=mgr_b)
    region_a = factories.make_territory(plan, code="A", name="Region A")
    region_b = factories.make_territory(plan, code="B", name="Region B")
    t_a = factories.make_territory(plan, code="A-1", name="Leaf A1", parent=region_a,
                                   rule={"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]})
    t_b = factories.make_territory(plan, code="B-1", name="Leaf B1", parent=region_b,
                                   rule={"all": [{"field": "state", "op": "in", "value": ["US-NY"]}]})
    factories.assign(region_a, dir_a)
    factories.assign(region_b, dir_b)
    own_assignment = factories.assign(t_a, rep_a)
    foreign_assignment = factories.assign(t_b, rep_b)
    factories.assign(t_a, rep_a, slot=RepAssignment.Slot.BACKUP)

    def account(name, territory, state, amount):
        a = factories.make_account(name=name, territory=territory, state=state,  # its current primary row
                                   lat=LOCATIONS[state][0], lon=LOCATIONS[state][1])
        factories.make_opportunity(a, amount=Decimal(amount), name=f"{name} deal")
        return a

    acc_a = account("Own Co", t_a, "US-CA", "5000")
    acc_b = account("Foreign Co", t_b, "US-NY", "77777")  # a figure no other role may see
    lead_a = Lead.objects.create(company="Own lead", territory=t_a, state="US-CA", country="US")
    lead_b = Lead.objects.create(company="Foreign lead", territory=t_b, state="US-NY", country="US")
    job = RoutingJob.objects.create(plan=plan, scope=RoutingJob.Scope.FULL, dry_run=True, created_by=admin,
                                    status=RoutingJob.Status.DONE, finished_at=dt.datetime.now(dt.UTC))
    own_proposal = _executed_proposal(plan, mgr_a, "Own move", acc_a, t_a)
    foreign_proposal = _executed_proposal(plan, mgr_b, "Move Foreign Co to Leaf B1", acc_b, t_b)
    users = {"admin": admin, "director": dir_a, "manager": mgr_a, "rep": rep_a}
    notes = {role: Notification.objects.create(user=u, title=f"For {role}") for role, u in users.items()}
    foreign_note = Notification.objects.create(user=rep_b, title="For someone else")
    grants_rebuild()
    # A draft copy of the plan, simulated: its territories carry side B's names and figures too.
    draft = plan_import(document=plan_export(plan=plan), name="Matrix draft")
    grants_rebuild()
    simulation_run(simulation_id=simulation_start(plan=draft, by=admin, queue=False).pk)
    policy = ApprovalPolicy.objects.get()  # the default one (organisation-wide: own and foreign alike)
    asks_each_role = _proposal_asking(plan, admin, "Matrix proposal", [admin, dir_a, mgr_a, rep_a])
    asks_side_b = _proposal_asking(plan, admin, "Leaf B1 proposal", [mgr_b])
    own = {
        role: {"territory": (t_a.pk,), "account": (acc_a.pk,), "lead": (lead_a.pk,), "job": (job.pk,),
               "notification": (notes[role].pk,), "assignment": (t_a.pk, own_assignment.pk),
               "fiscal_year": (fy.pk,), "plan": (plan.pk,), "approval_policy": (policy.pk,),
               "draft": (draft.pk,), "reassignment": (own_proposal.pk,), "approval_subject": (asks_each_role.pk,)}
        for role in ROLES
    }
    foreign = {
        role: {"territory": (t_b.pk,), "account": (acc_b.pk,), "lead": (lead_b.pk,), "job": (job.pk,),
               "notification": (foreign_note.pk,), "assignment": (t_b.pk, foreign_assignment.pk),
               "fiscal_year": (fy.pk,), "plan": (plan.pk,), "approval_policy": (policy.pk,),
               "draft": (draft.pk,), "reassignment": (foreign_proposal.pk,), "approval_subject": (asks_side_b.pk,)}
        for role in ROLES
    }
    return World(users=users, own=own, foreign=foreign, plan_id=plan.pk, draft_id=draft.pk)


def _executed_proposal(plan, by, title: str, account, territory) -> Reassignment:
    """A proposal that moved ``account`` within ``territory``'s side, carried out (so the
    mid-year changes log lists it too)."""
    proposal = Reassignment.objects.create(
        plan=plan, kind=Reassignment.Kind.MOVE_ACCOUNTS, title=title, initiator=by,
        change={"accounts": [account.pk], "to_territory": territory.pk}, effective_date=dt.date(2026, 6, 1),
    )
    ReassignmentMove.objects.create(reassignment=proposal, account=account, from_territory=territory,
                                    to_territory=territory)
    Reassignment.objects.filter(pk=proposal.pk).update(status=Reassignment.Status.DONE)
    return proposal


def _proposal_asking(plan, initiator, title: str, approvers: list) -> Reassignment:
    """A submitted proposal whose one any-of step waits for ``approvers``."""
    proposal = Reassignment.objects.create(plan=plan, kind=Reassignment.Kind.MOVE_ACCOUNTS, title=title,
                                           effective_date=dt.date(2027, 1, 4), initiator=initiator, round=1)
    proposal.submit()
    proposal.save()
    for user in approvers:
        ApprovalTask.objects.create(reassignment=proposal, round=1, step_order=1, step_name="Sign-off", mode="any",
                                    approver=user)
    return proposal


def url_for(route: str, args: tuple) -> str:
    """The path of a discovered route with its ids filled in."""
    path = "/" + route
    for value in args:
        start = path.index("<")
        path = path[:start] + str(value) + path[path.index(">", start) + 1:]
    return path


POST_DATA = {
    "accounts/<int:pk>/activities/": {"kind": "call", "note": "Matrix call"},
    "territories/<int:pk>/move/": {"parent_code": ""},
    "routing/jobs/start/": {"scope": "full", "dry_run": "on"},
    "routing/route/": {},
}


def answer(client, method: str, route: str, path: str) -> int:
    # Each request runs in a savepoint rolled back afterwards, so a POST one role may make (move,
    # end an assignment) does not change what the next role sees.
    with transaction.atomic():
        response = client.post(path, POST_DATA.get(route, {})) if method == "POST" else client.get(path)
        transaction.set_rollback(True)
    return response.status_code


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_matrix(client, world, route):
    row = MATRIX[route]
    wrong = []
    for role in ROLES:
        client.force_login(world.users[role])
        if not row.kind:
            got = answer(client, row.method, route, url_for(route, ()))
            if got != row.expect[role]:
                wrong.append(f"{role}: expected {row.expect[role]}, got {got}")
            continue
        own, foreign = row.expect[role]
        missing_args = tuple(MISSING for _ in world.own[role][row.kind])
        for label, args, expected in (
            ("own", world.own[role][row.kind], own),
            ("foreign", world.foreign[role][row.kind], foreign),
            ("missing", missing_args, 404),
        ):
            got = answer(client, row.method, route, url_for(route, args))
            if got != expected:
                wrong.append(f"{role}/{label}: expected {expected}, got {got}")
    assert not wrong, f"{row.method} {route}: " + "; ".join(wrong)


@pytest.mark.parametrize("route", sorted(r for r, row in MATRIX.items() if row.method == "GET"))
def test_anonymous_is_sent_to_login(client, world, route):
    row = MATRIX[route]
    args = world.own["rep"][row.kind] if row.kind else ()
    response = client.get(url_for(route, args))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


# --- what the bodies say ------------------------------------------------------------------------
#
# A 200 is not enough: a page, partial, preview, option list or export a role may open must not
# name what that role may not see. Every role below the admin is on side A of the world; these
# are side B's names and figures.

FOREIGN_TEXT = ("Foreign Co", "Foreign lead", "Leaf B1", "Region B", "77,777", "77777", "For someone else")


def probe_list(world: World) -> dict[str, tuple[str, str, dict, dict]]:
    """name -> (method, path, data, headers): searches, htmx partials, option lists, previews and
    exports beyond the plain pages, each asked for side B by name."""
    own_t, foreign_acc = world.own["rep"]["territory"][0], world.foreign["rep"]["account"][0]
    foreign_t = world.foreign["rep"]["territory"][0]
    htmx = {"HTTP_HX_REQUEST": "true"}
    return {
        "tree search": ("GET", "/territories/?q=B", {}, {}),
        "proposals, every scope": ("GET", "/planning/proposals/?scope=all", {}, {}),
        "proposals, team scope": ("GET", "/planning/proposals/?scope=team&q=Foreign", {}, {}),
        "proposals partial": ("GET", "/planning/proposals/?scope=team", {}, htmx),
        "mid-year changes": ("GET", "/planning/changes/", {}, {}),
        "propose from own territory": ("GET", f"/planning/proposals/new/?territory={own_t}", {}, {}),
        "propose from B": ("GET", f"/planning/proposals/new/?territory={foreign_t}", {}, {}),
        "propose B's account": ("GET", f"/planning/proposals/new/?account={foreign_acc}", {}, {}),
        "propose B's account from the queue": ("GET", f"/planning/proposals/from-queue/?accounts={foreign_acc}",
                                                {}, {}),
        "propose into B": ("POST", f"/planning/proposals/new/?territory={own_t}",
                           {"accounts": [foreign_acc], "to_territory": foreign_t}, {}),
        "simulation compared": ("GET", f"/planning/simulations/compare/?a={world.draft_id}", {}, {}),
        "rebalancing run": ("GET", "/planning/rebalance/?tolerance=5&metrics=tam", {}, {}),
        "tree search partial": ("GET", "/territories/?q=Leaf", {}, htmx),
        "children partial": ("GET", f"/territories/{own_t}/children/", {}, htmx),
        "accounts search": ("GET", "/accounts/?q=Foreign", {}, {}),
        "accounts export": ("GET", "/accounts/export.csv", {}, {}),
        "leads search": ("GET", "/leads/?q=Foreign", {}, {}),
        "leads export": ("GET", "/leads/export.csv", {}, {}),
        "route targets": ("GET", "/routing/territory-options/?q=B", {}, {}),
        # Analytics asked for side B's territory by id: the answer must not name or count it.
        "performance of B": ("GET", f"/analytics/performance/?territory={foreign_t}", {}, {}),
        "performance export of B": ("GET", f"/analytics/performance.csv?territory={foreign_t}", {}, {}),
        "forecast of B": ("GET", f"/analytics/forecast/?territory={foreign_t}", {}, {}),
        "compare with B": ("GET", f"/analytics/compare/?t={own_t}&t={foreign_t}", {}, {}),
        "compare level 1": ("GET", "/analytics/compare.csv?level=1", {}, {}),
        "forecast export of B": ("GET", f"/analytics/forecast.csv?territory={foreign_t}", {}, {}),
        "year over year": ("GET", "/analytics/year-over-year/", {}, {}),
        "plan data territories": ("GET", "/analytics/plan-data/territories.csv", {}, {}),
        "plan data assignments": ("GET", "/analytics/plan-data/assignments.csv", {}, {}),
        "plan data metrics": ("GET", "/analytics/plan-data/metrics.csv", {}, {}),
        "named options": ("GET", "/territories/builder/options/?kind=named&named-q=Foreign", {}, {}),
        "account options": ("GET", "/territories/builder/options/?kind=account&q=Foreign", {}, {}),
        "parent options": ("GET", f"/territories/builder/options/?kind=parent&plan={world.plan_id}&parent=B", {}, {}),
        # By id alone: the answer must not put a name to it (the query is echoed when not found).
        "named chip": ("GET", f"/territories/builder/chip/?kind=named&name=named&named-q=%23{foreign_acc}", {}, {}),
        "named preview": ("POST", "/territories/builder/preview/", {"territory": own_t, "type": "named_account",
                                                                    "named": [foreign_acc]}, {}),
        # Side B's territory is drawn from its account's location (no reference shapes here).
        "map boundaries": ("GET", "/map/boundaries.json?level=all", {}, {}),
        "map heat": ("GET", "/map/heat.json?area=state&metric=revenue", {}, {}),
        "rule preview": ("POST", "/territories/builder/preview/", {
            "territory": own_t, "type": "geographic", "parent": "", "node": ["g1", "c1"],
            "n-g1-parent": "", "n-g1-kind": "group", "n-g1-join": "all", "n-c1-parent": "g1",
            "n-c1-kind": "cond", "n-c1-field": "name", "n-c1-op": "prefix", "n-c1-text": "Foreign"}, {}),
    }


PROBES = list(probe_list(World(users={}, own={"rep": {"territory": (0,), "account": (0,)}},
                               foreign={"rep": {"territory": (0,), "account": (0,)}})))


def body_of(client, method: str, path: str, data: dict, headers: dict) -> tuple[int, str]:
    with transaction.atomic():
        response = client.post(path, data, **headers) if method == "POST" else client.get(path, **headers)
        transaction.set_rollback(True)
    if response.status_code != 200:
        return response.status_code, ""
    if getattr(response, "streaming", False):
        return 200, b"".join(response.streaming_content).decode()
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):  # a workbook: its cells
        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return 200, "\n".join(str(v) for sheet in book for row in sheet.iter_rows(values_only=True) for v in row)
    return 200, response.content.decode()


def leaks(body: str) -> list[str]:
    return [text for text in FOREIGN_TEXT if text in body]


BELOW_ADMIN = [r for r in ROLES if r != "admin"]


@pytest.mark.parametrize("route", sorted(MATRIX))
def test_pages_do_not_name_what_the_role_may_not_see(client, world, route):
    """Every page of the matrix each role opens on its own objects (or without one), with the
    form's POST where the view takes one."""
    row = MATRIX[route]
    wrong = []
    for role in BELOW_ADMIN:
        client.force_login(world.users[role])
        path = url_for(route, world.own[role][row.kind] if row.kind else ())
        _, body = body_of(client, row.method, path, POST_DATA.get(route, {}), {})
        if leaks(body):
            wrong.append(f"{role}: {leaks(body)}")
    assert not wrong, f"{row.method} {route} names side B: " + "; ".join(wrong)


@pytest.mark.parametrize("probe", PROBES)
def test_searches_partials_options_previews_and_exports_do_not_name_what_the_role_may_not_see(
    client, world, probe
):
    method, path, data, headers = probe_list(world)[probe]
    wrong = []
    for role in BELOW_ADMIN:
        client.force_login(world.users[role])
        _, body = body_of(client, method, path, data, headers)
        if leaks(body):
            wrong.append(f"{role}: {leaks(body)}")
    assert not wrong, f"{method} {path} names side B: " + "; ".join(wrong)


def test_the_admin_sees_side_b_so_the_search_is_not_vacuous(client, world):
    client.force_login(world.users["admin"])
    _, page = body_of(client, "GET", "/accounts/?q=Foreign", {}, {})
    _, export = body_of(client, "GET", "/accounts/export.csv", {}, {})
    _, tree = body_of(client, "GET", "/territories/?q=B", {}, {})
    _, options = body_of(client, "GET", "/territories/builder/options/?kind=named&named-q=Foreign", {}, {})
    _, chip = body_of(client, "GET", *probe_list(world)["named chip"][1:2], {}, {})
    assert "Foreign Co" in page and "Foreign Co" in export and "Leaf B1" in tree and "Foreign Co" in options
    assert "Foreign Co" in chip
    _, boundaries = body_of(client, "GET", "/map/boundaries.json?level=all", {}, {})
    assert "Leaf B1" in boundaries
    _, proposals = body_of(client, "GET", "/planning/proposals/?scope=all", {}, {})
    _, changes = body_of(client, "GET", "/planning/changes/", {}, {})
    assert "Move Foreign Co to Leaf B1" in proposals and "Move Foreign Co to Leaf B1" in changes
    _, simulation = body_of(client, "GET", f"/planning/plans/{world.draft_id}/simulation/", {}, {})
    assert "Leaf B1" in simulation and "77,777" in simulation
