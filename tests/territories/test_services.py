"""Territory and assignment services: history with the user, invariants, tree moves, deletes,
and the re-route each routing change starts in the active plan."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from routing import receivers
from routing.engine import RuleError
from territories import services
from territories.models import RepAssignment, Territory
from tests import factories

pytestmark = pytest.mark.django_db
Slot = RepAssignment.Slot


@pytest.fixture
def reroutes(monkeypatch):
    """Stands in for the batch re-route that routing connects to ``territories.hooks.routing_changed``
    and records every re-route asked for."""
    calls: list[dict] = []

    def reroute_job_start(**kw):
        calls.append(kw)
        return kw

    monkeypatch.setattr(receivers, "reroute_job_start", reroute_job_start)
    return calls


@pytest.fixture
def admin():
    return factories.make_user("admin")


@pytest.fixture
def plan():
    return factories.make_plan()


def test_create_records_history_with_user_and_reason(plan, admin, reroutes):
    rep = factories.make_user()
    version = plan.version
    t = services.territory_create(
        plan=plan,
        data={"name": "West Health", "type": "hybrid",
              "rule": {"all": [{"field": "state", "op": "in", "value": ["us-ca"]}]},
              "reps": [{"user": rep, "slot": "primary"}]},
        by=admin,
        activate=True,
    )
    assert t.code == "WEST-HEALTH" and t.status == "active"
    assert t.rule == {"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]}  # normalised
    record = t.history.latest()
    assert record.history_user == admin and record.history_change_reason == "Created and activated"
    assignment = t.assignments.get()
    assert assignment.history.latest().history_user == admin
    plan.refresh_from_db()
    assert plan.version > version
    assert reroutes == [{"plan": plan, "scope": "territories", "territory_ids": [t.pk], "by": admin}]


def test_draft_plan_is_not_rerouted_and_draft_status(admin, reroutes):
    draft = factories.make_plan(status="draft")
    t = services.territory_create(plan=draft, data={"name": "X"}, by=admin, activate=False)
    assert t.status == "draft" and t.history.latest().history_change_reason == "Created as draft"
    assert reroutes == []


def test_rule_update_validates_and_records(plan, admin, reroutes):
    parent = factories.make_territory(plan)
    child = factories.make_territory(plan, parent=parent)
    with pytest.raises(RuleError) as err:
        services.territory_update_rule(territory=parent, rule={"all": [{"field": "nope", "op": "eq", "value": 1}]},
                                       by=admin)
    assert err.value.problems[0].path == "all[0].field"
    services.territory_update_rule(territory=parent, rule={"field": "employees", "op": "gte", "value": "500"}, by=admin)
    parent.refresh_from_db()
    assert parent.rule["value"] == 500
    assert parent.history.latest().history_user == admin
    assert parent.history.latest().history_change_reason == "Changed the rule"
    assert set(reroutes[-1]["territory_ids"]) == {parent.pk, child.pk}  # children inherit the rule
    n = parent.history.count()
    services.territory_update_rule(territory=parent, rule={"field": "employees", "op": "gte", "value": 500}, by=admin)
    assert parent.history.count() == n  # unchanged rule writes nothing


def test_update_plain_fields(plan, admin, reroutes):
    t = factories.make_territory(plan, name="Old")
    services.territory_update(territory=t, data={"name": "New", "priority": 5}, by=admin)
    t.refresh_from_db()
    assert (t.name, t.priority) == ("New", 5)
    assert "priority" in t.history.latest().history_change_reason
    assert reroutes  # priority can change who wins


def test_code_must_be_unique_in_plan(plan, admin):
    factories.make_territory(plan, code="WEST")
    with pytest.raises(ValidationError):
        services.territory_create(plan=plan, data={"name": "W", "code": "west"}, by=admin, activate=True)


def test_move_prevents_cycles_and_cross_plan(plan, admin, reroutes):
    root = factories.make_territory(plan, code="R")
    a = factories.make_territory(plan, code="A", parent=root)
    b = factories.make_territory(plan, code="B", parent=a)
    other = factories.make_territory(factories.make_plan(status="draft"), code="O")
    for target in (a, b):
        with pytest.raises(ValidationError):
            services.territory_move(territory=a, new_parent=target, by=admin)
    with pytest.raises(ValidationError):
        services.territory_move(territory=a, new_parent=other, by=admin)
    moved = services.territory_move(territory=b, new_parent=root, by=admin)
    assert moved.parent_id == root.pk
    assert b.history.latest().history_user == admin
    assert b.history.latest().history_change_reason == "Moved under R"
    assert set(reroutes[-1]["territory_ids"]) == {b.pk, a.pk, root.pk}
    top = services.territory_move(territory=a, new_parent=None, by=admin)
    assert top.parent_id is None


def test_delete_moves_children_up_and_reroutes_its_accounts(plan, admin, reroutes):
    root = factories.make_territory(plan, code="R")
    mid = factories.make_territory(plan, code="M", parent=root)
    kid = factories.make_territory(plan, code="K", parent=mid)
    # On its named list and locked to it: affected, but no ownership rows (those would retire it,
    # see test_a_territory_with_ownership_history_is_retired_not_erased).
    acc = factories.make_account()
    mid.named_accounts.add(acc)
    locked = factories.make_account(locked_territory=mid)
    impact = services.territory_delete_impact(territory=mid)
    assert impact["accounts"] == 2 and impact["children_to"] == root and impact["territories"] == 1
    result = services.territory_delete(territory=mid, by=admin)
    assert result["children_to"] == root and result["accounts"] == 2
    kid.refresh_from_db()
    assert kid.parent_id == root.pk
    assert kid.history.latest().history_change_reason == "M deleted: moved under R"
    assert not Territory.objects.filter(pk=mid.pk).exists()
    deleted = Territory.history.filter(id=mid.pk, history_type="-").get()
    assert deleted.history_user == admin
    assert {"scope": "accounts", "account_ids": sorted([acc.pk, locked.pk])}.items() <= reroutes[-1].items()


def test_delete_subtree_or_reassign_elsewhere(plan, admin, reroutes):
    root = factories.make_territory(plan, code="R")
    other = factories.make_territory(plan, code="O")
    mid = factories.make_territory(plan, code="M", parent=root)
    kid = factories.make_territory(plan, code="K", parent=mid)
    with pytest.raises(ValidationError):
        services.territory_delete(territory=mid, by=admin, reassign_children_to=kid)
    services.territory_delete(territory=mid, by=admin, reassign_children_to=other)
    kid.refresh_from_db()
    assert kid.parent_id == other.pk
    services.territory_delete(territory=other, by=admin, delete_children=True)
    assert not Territory.objects.filter(pk__in=[other.pk, kid.pk]).exists()
    assert Territory.objects.filter(pk=root.pk).exists()


def test_one_current_primary(plan, admin):
    t = factories.make_territory(plan)
    a, b = factories.make_user(), factories.make_user()
    first = services.assignment_add(territory=t, user=a, slot="primary", by=admin)
    assert first.split_percent == 100
    with pytest.raises(ValidationError, match="already has a primary"):
        services.assignment_add(territory=t, user=b, slot="primary", by=admin)
    services.assignment_end(assignment=first, by=admin)
    first.refresh_from_db()
    assert first.end_date == dt.date.today()
    assert first.history.latest().history_change_reason == "Assignment ended"
    second = services.assignment_add(territory=t, user=b, slot="primary", by=admin)
    # End dates are inclusive, so the successor starts the day after.
    assert second.start_date == dt.date.today() + dt.timedelta(days=1)
    assert second.history.latest().history_user == admin
    with pytest.raises(ValidationError):
        services.assignment_end(assignment=first, by=admin)


def test_overlay_splits_total_at_most_100(plan, admin):
    t = factories.make_territory(plan)
    u1, u2, u3 = (factories.make_user() for _ in range(3))
    services.assignment_add(territory=t, user=u1, slot="overlay", split_percent=60, by=admin)
    with pytest.raises(ValidationError, match="total 110%"):
        services.assignment_add(territory=t, user=u2, slot="overlay", split_percent=50, by=admin)
    services.assignment_add(territory=t, user=u2, slot="overlay", split_percent=40, by=admin)
    assert services.overlay_total(territory=t) == 100
    with pytest.raises(ValidationError):
        services.assignment_add(territory=t, user=u3, slot="overlay", split_percent=101, by=admin)
    backup = services.assignment_add(territory=t, user=u3, slot="backup", by=admin)
    assert backup.split_percent == 0
    with pytest.raises(ValidationError, match="already holds"):
        services.assignment_add(territory=t, user=u3, slot="backup", by=admin)


def test_primary_change_updates_account_owner(plan, admin):
    from territories.placement import placement

    t = factories.make_territory(plan)
    acc = factories.make_account(territory=t)
    rep = factories.make_user()
    today = dt.date.today()
    assert placement(acc).owner is None
    assignment = services.assignment_add(territory=t, user=rep, slot="primary", by=admin,
                                         start_date=today - dt.timedelta(days=30))
    assert placement(acc).owner == rep
    # Owners are live: a backup covers the primary's leave, nobody owns it once the primary ended.
    backup = factories.make_user()
    services.assignment_add(territory=t, user=backup, slot="backup", by=admin)
    factories.make_leave(rep, start=today)
    assert placement(acc).owner == backup
    services.assignment_end(assignment=assignment, end_date=today - dt.timedelta(days=1), by=admin)
    assert placement(acc).owner == backup


def test_named_accounts_change_is_recorded(plan, admin, reroutes):
    t = factories.make_territory(plan, type="named_account")
    a1, a2 = factories.make_account(), factories.make_account()
    services.territory_named_accounts_set(territory=t, account_ids=[a1.pk, a2.pk], by=admin)
    assert t.history.latest().history_change_reason == "Named accounts: +2 / -0"
    services.territory_named_accounts_set(territory=t, account_ids=[a2.pk], by=admin)
    assert set(t.named_accounts.values_list("pk", flat=True)) == {a2.pk}
    assert t.history.latest().history_change_reason == "Named accounts: +0 / -1"
    assert reroutes[-1]["territory_ids"] == [t.pk]


def test_a_territory_with_ownership_history_is_retired_not_erased(plan, admin, reroutes):
    from territories.models import AccountTerritory
    from tests.factories import make_account

    territory = Territory.objects.create(plan=plan, code="OLD", name="Old territory")
    rep = factories.make_user()
    services.assignment_add(territory=territory, user=rep, slot="primary", by=admin)
    account = make_account(territory=territory)  # its current primary row: ownership history
    impact = services.territory_delete_impact(territory=territory)
    assert impact["retire"] is True and impact["accounts"] == 1

    result = services.territory_delete(territory=territory, by=admin)

    territory.refresh_from_db()
    assert result["retired"] and territory.status == Territory.Status.INACTIVE
    assert AccountTerritory.objects.filter(territory=territory).count() == 1  # the history stays
    assert {"scope": "accounts", "account_ids": [account.pk]}.items() <= reroutes[-1].items()
    assert not territory.assignments.filter(end_date__isnull=True).exists()
    assert "Retired" in territory.history.latest().history_change_reason


def test_a_territory_without_records_is_removed(plan, admin, reroutes):
    territory = Territory.objects.create(plan=plan, code="EMPTY", name="Never used")
    assert services.territory_delete_impact(territory=territory)["retire"] is False
    assert services.territory_delete(territory=territory, by=admin)["retired"] is False
    assert not Territory.objects.filter(pk=territory.pk).exists()
