"""The grants service: each role gets exactly the object permissions DESIGN "Permissions" calls
for, kept in step with assignments, the org chart and the tree, in bulk."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from salesos.models import SalesProfile
from territories.grants import grants_rebuild, grants_sync
from territories.models import RepAssignment, Territory, TerritoryUserObjectPermission
from tests import factories

Role = SalesProfile.Role
pytestmark = pytest.mark.django_db
ALL = {"view_territory", "change_territory", "delete_territory", "add_territory"}


def rows() -> set[tuple[str, str, str]]:
    return set(
        TerritoryUserObjectPermission.objects.values_list(
            "user__username", "content_object__code", "permission__codename"
        )
    )


def rows_of(username: str) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for user, code, perm in rows():
        if user == username:
            result.setdefault(code, set()).add(perm)
    return result


@pytest.fixture
def org():
    """Two regions led by two directors; a manager with two reps under the first director; a rep
    of another manager; an admin; an overlay territory outside both regions."""
    plan = factories.make_plan(name="Grants plan")
    make = factories.make_user
    admin = make(Role.ADMIN, username="ada")
    dir_a = make(Role.DIRECTOR, username="dir_a")
    dir_b = make(Role.DIRECTOR, username="dir_b")
    mgr = make(Role.MANAGER, username="mgr", manager=dir_a)
    rep1 = make(Role.REP, username="rep1", manager=mgr)
    rep2 = make(Role.REP, username="rep2", manager=mgr)
    mgr2 = make(Role.MANAGER, username="mgr2", manager=dir_b)
    rep3 = make(Role.REP, username="rep3", manager=mgr2)
    t = {}
    t["A"] = factories.make_territory(plan, code="A")
    t["A1"] = factories.make_territory(plan, code="A1", parent=t["A"])
    t["A1a"] = factories.make_territory(plan, code="A1a", parent=t["A1"])
    t["A2"] = factories.make_territory(plan, code="A2", parent=t["A"])
    t["B"] = factories.make_territory(plan, code="B")
    t["B1"] = factories.make_territory(plan, code="B1", parent=t["B"])
    t["OVL"] = factories.make_territory(plan, code="OVL", is_overlay=True)
    factories.assign(t["A"], dir_a)
    factories.assign(t["B"], dir_b)
    factories.assign(t["A1"], mgr)
    factories.assign(t["A1a"], rep1)
    factories.assign(t["A2"], rep2)
    factories.assign(t["OVL"], rep1, slot=RepAssignment.Slot.OVERLAY, split_percent=50)
    factories.assign(t["A2"], rep1, slot=RepAssignment.Slot.BACKUP)
    factories.assign(t["B1"], rep3)
    # An ended assignment grants nothing.
    factories.assign(t["B1"], rep2, slot=RepAssignment.Slot.BACKUP, start_date=dt.date(2025, 1, 1),
                     end_date=dt.date(2025, 6, 1))
    grants_rebuild()
    users = dict(admin=admin, dir_a=dir_a, dir_b=dir_b, mgr=mgr, rep1=rep1, rep2=rep2, mgr2=mgr2, rep3=rep3)
    return plan, t, users


def test_rep_sees_only_territories_they_hold_in_any_slot(org):
    assert rows_of("rep1") == {"A1a": {"view_territory"}, "OVL": {"view_territory"}, "A2": {"view_territory"}}
    assert rows_of("rep2") == {"A2": {"view_territory"}}  # the ended backup on B1 gives nothing
    assert rows_of("rep3") == {"B1": {"view_territory"}}


def test_manager_gets_view_and_change_on_own_and_direct_reports_territories(org):
    both = {"view_territory", "change_territory"}
    assert rows_of("mgr") == {"A1": both, "A1a": both, "A2": both, "OVL": both}
    assert rows_of("mgr2") == {"B1": both}


def test_director_gets_everything_on_the_subtrees_they_lead(org):
    assert rows_of("dir_a") == {code: ALL for code in ("A", "A1", "A1a", "A2")}
    assert rows_of("dir_b") == {code: ALL for code in ("B", "B1")}


def test_admin_gets_global_permissions_and_no_rows(org):
    _, t, users = org
    assert rows_of("ada") == {}
    admin = type(users["admin"]).objects.get(pk=users["admin"].pk)
    assert admin.has_perm("territories.change_territory") and admin.has_perm("territories.add_territory")
    rep = type(users["rep1"]).objects.get(pk=users["rep1"].pk)
    assert not rep.has_perm("territories.view_territory")
    # guardian reads the rows: object permission checks agree with the materialised grants
    assert rep.has_perm("territories.view_territory", t["A1a"])
    assert not rep.has_perm("territories.view_territory", t["B"])


def test_rebuild_is_idempotent(org):
    before = rows()
    with CaptureQueriesContext(connection) as ctx:
        grants_rebuild()
    assert rows() == before
    assert not [q for q in ctx.captured_queries if q["sql"].startswith(("INSERT", "DELETE"))]


def test_rebuild_repairs_stray_and_missing_rows(org):
    _, t, users = org
    TerritoryUserObjectPermission.objects.filter(user=users["rep1"]).delete()
    from guardian.shortcuts import assign_perm

    assign_perm("territories.delete_territory", users["rep3"], t["A"])
    grants_rebuild()
    assert rows_of("rep1") == {"A1a": {"view_territory"}, "OVL": {"view_territory"}, "A2": {"view_territory"}}
    assert rows_of("rep3") == {"B1": {"view_territory"}}


def test_sync_after_an_assignment_change(org):
    _, t, users = org
    assignment = RepAssignment.objects.get(territory=t["A2"], user=users["rep2"], end_date__isnull=True)
    # End dates are inclusive: an assignment that ended yesterday grants nothing today.
    assignment.start_date = dt.date.today() - dt.timedelta(days=10)
    assignment.end_date = dt.date.today() - dt.timedelta(days=1)
    assignment.save()
    factories.assign(t["B1"], users["rep2"], slot=RepAssignment.Slot.OVERLAY, split_percent=20)
    grants_sync(territories=[t["A2"], t["B1"]])
    assert rows_of("rep2") == {"B1": {"view_territory"}}
    assert "A2" not in rows_of("mgr2")
    assert rows_of("mgr2")["B1"] == {"view_territory", "change_territory"}
    # mgr keeps A2 through rep1's backup slot; rep2 is mgr's report, so B1 now shows up for mgr
    assert set(rows_of("mgr")) == {"A1", "A1a", "A2", "OVL", "B1"}
    before = rows()
    grants_rebuild()
    assert rows() == before  # the targeted sync left exactly what a full rebuild makes


def test_sync_after_an_org_chart_change(org):
    _, t, users = org
    profile = users["rep3"].sales_profile
    old_manager = profile.manager_id
    profile.manager = users["mgr"]
    profile.save()
    grants_sync(users=[users["rep3"], old_manager, users["mgr"]])
    assert "B1" in rows_of("mgr") and rows_of("mgr2") == {}
    before = rows()
    grants_rebuild()
    assert rows() == before


def test_sync_after_a_role_change(org):
    _, t, users = org
    profile = users["mgr"].sales_profile
    profile.role = Role.REP
    profile.save()
    grants_sync(users=[users["mgr"]])
    assert rows_of("mgr") == {"A1": {"view_territory"}}
    profile.role = Role.ADMIN
    profile.save()
    grants_sync(users=[users["mgr"]])
    assert rows_of("mgr") == {}
    assert type(users["mgr"]).objects.get(pk=users["mgr"].pk).has_perm("territories.delete_territory")


def test_sync_after_a_move_between_regions(org):
    _, t, users = org
    from territories.services import territory_move

    territory_move(territory=t["A1"], new_parent=t["B"], by=users["admin"])  # the service syncs
    assert set(rows_of("dir_a")) == {"A", "A2", "A1"}  # A1 stays: its manager reports to dir_a
    assert rows_of("dir_a")["A1"] == {"view_territory", "change_territory"}
    assert set(rows_of("dir_b")) == {"B", "B1", "A1", "A1a"}
    assert rows_of("dir_b")["A1a"] == ALL
    before = rows()
    grants_rebuild()
    assert rows() == before


def test_sync_with_explicit_move_and_nothing(org):
    _, t, users = org
    Territory.objects.filter(pk=t["A2"].pk).update(parent=t["B"])
    grants_sync(territories=[t["A2"].pk])
    assert rows_of("dir_b")["A2"] == ALL and "A2" not in rows_of("dir_a")
    with CaptureQueriesContext(connection) as ctx:
        grants_sync(territories=[], users=[])
    assert len(ctx.captured_queries) == 0


def test_rebuild_grants_command(org, capsys):
    TerritoryUserObjectPermission.objects.all().delete()
    call_command("rebuild_grants")
    assert "object permission" in capsys.readouterr().out
    assert rows_of("rep3") == {"B1": {"view_territory"}}


def _bulk_plan(n_regions: int, per_region: int):
    """Regions led by directors, leaves held by reps under managers: built with bulk inserts."""
    plan = factories.make_plan(name=f"Bulk {n_regions}x{per_region}")
    directors = [factories.make_user(Role.DIRECTOR) for _ in range(n_regions)]
    managers = [factories.make_user(Role.MANAGER, manager=d) for d in directors]
    reps = [factories.make_user(Role.REP, manager=m) for m in managers for _ in range(3)]
    regions = Territory.objects.bulk_create(
        [Territory(plan=plan, code=f"R{i}", name=f"Region {i}") for i in range(n_regions)]
    )
    leaves = Territory.objects.bulk_create(
        [
            Territory(plan=plan, code=f"R{i}-{j}", name=f"Leaf {i}.{j}", parent=region)
            for i, region in enumerate(regions)
            for j in range(per_region)
        ]
    )
    assignments = [RepAssignment(territory=r, user=d, slot="primary") for r, d in zip(regions, directors, strict=True)]
    assignments += [
        RepAssignment(territory=leaf, user=reps[k % len(reps)], slot="primary") for k, leaf in enumerate(leaves)
    ]
    RepAssignment.objects.bulk_create(assignments)
    return plan


@pytest.mark.parametrize("per_region", [5, 200])
def test_rebuild_query_count_does_not_grow_with_territories(per_region, django_assert_max_num_queries):
    _bulk_plan(3, per_region)
    with django_assert_max_num_queries(16):
        count = grants_rebuild()
    # each leaf: rep view + manager view/change + director 4 perms; each region: director 4
    assert count == 3 * per_region * 7 + 3 * 4
    with django_assert_max_num_queries(12):
        grants_rebuild()
