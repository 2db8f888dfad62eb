"""Routing services: decisions persisted as effective-dated rows, owners, leads, locks."""

import datetime as dt

import pytest
from django.utils import timezone

from routing import api, engine, services
from routing.traces import decision_trace
from salesos.models import Account, Lead, Leave
from territories import coverage, placement
from territories.models import AccountTerritory, Territory
from tests.factories import assign, make_account, make_plan, make_territory, make_user

pytestmark = pytest.mark.django_db

CA = {"all": [{"field": "state", "op": "in", "value": ["US-CA"]}]}
HEALTH = {"all": [{"field": "industry", "op": "in", "value": ["62"]}]}


@pytest.fixture
def plan():
    plan = make_plan()
    us = make_territory(plan, code="US", rule={"all": [{"field": "country", "op": "eq", "value": "US"}]})
    west = make_territory(plan, code="US-WEST", parent=us, rule=CA)
    east = make_territory(plan, code="US-EAST", parent=us,
                          rule={"all": [{"field": "state", "op": "in", "value": ["US-NY"]}]})
    overlay = make_territory(plan, code="HC-OVERLAY", rule=HEALTH, is_overlay=True, credit_percent=40)
    plan.t = {"us": us, "west": west, "east": east, "overlay": overlay}
    return plan


def current_rows(account):
    return sorted(
        AccountTerritory.objects.filter(account=account, valid_to__isnull=True).values_list(
            "territory__code", "is_primary", "credit_percent", "source"
        )
    )


def test_new_account_lands_in_the_deepest_match_with_overlay_credit(plan):
    rep = make_user()
    assign(plan.t["west"], rep)
    account = services.account_save(account=Account(name="Kaiser", country="US", state="US-CA",
                                                    industry_code="622110"))
    where = placement.placement(account)
    assert where.territory == plan.t["west"] and where.owner == rep
    assert current_rows(account) == [("HC-OVERLAY", False, 40, "rule"), ("US-WEST", True, 100, "rule")]
    primary = AccountTerritory.objects.get(account=account, is_primary=True)
    assert [c["code"] for c in decision_trace(primary)["trace"]["candidates"] if c["outcome"] == "won"] == ["US-WEST"]


def test_a_move_closes_the_old_row_and_keeps_history(plan):
    account = services.account_save(account=Account(name="Acme", country="US", state="US-CA"))
    before = services.routable_snapshot(account)
    account.state = "US-NY"
    services.account_save(account=account, before=before)
    assert placement.placement(account).territory == plan.t["east"]
    history = list(AccountTerritory.objects.filter(account=account).order_by("valid_from", "id")
                   .values_list("territory__code", "valid_to"))
    assert [code for code, _ in history] == ["US-WEST", "US-EAST"]
    assert history[0][1] is not None and history[1][1] is None


def test_saving_without_routable_changes_writes_nothing(plan):
    account = services.account_save(account=Account(name="Acme", country="US", state="US-CA"))
    rows = AccountTerritory.objects.count()
    account.name = "Acme Inc."
    services.account_save(account=account)
    services.account_route(account=account)
    assert AccountTerritory.objects.count() == rows


def test_no_match_goes_to_the_unassigned_queue(plan):
    account = services.account_save(account=Account(name="Berlin GmbH", country="DE"))
    assert not placement.placement(account).assigned and current_rows(account) == []


def test_lock_wins_over_rules_and_unlock_restores_them(plan):
    account = services.account_save(account=Account(name="Acme", country="US", state="US-CA"))
    services.account_lock(account=account, territory=plan.t["east"])
    assert placement.placement(account).territory == plan.t["east"]
    assert ("US-EAST", True, 100, "lock") in current_rows(account)
    services.account_lock(account=account, territory=None)
    assert placement.placement(account).territory == plan.t["west"]


def test_backup_owns_while_the_primary_is_on_leave(plan):
    primary, backup = make_user(), make_user()
    assign(plan.t["west"], primary)
    assign(plan.t["west"], backup, slot="backup")
    today = timezone.localdate()
    Leave.objects.create(user=primary, start=today - dt.timedelta(days=1), end=today + dt.timedelta(days=5))
    account = services.account_save(account=Account(name="Acme", country="US", state="US-CA"))
    assert placement.placement(account).owner == backup
    assert coverage.owner_ids_on(territory_ids=[plan.t["west"].pk], on=today + dt.timedelta(days=6)) == {
        plan.t["west"].pk: primary.pk
    }


def test_round_robin_leads_rotate_among_the_territorys_reps(plan):
    west = plan.t["west"]
    Territory.objects.filter(pk=west.pk).update(lead_assignment="round_robin")
    reps = [make_user() for _ in range(3)]
    assign(west, reps[0])
    assign(west, reps[1], slot="backup")
    assign(west, reps[2], slot="overlay", split_percent=20)
    owners = [services.lead_save(lead=Lead(company=f"L{i}", country="US", state="US-CA")).owner_id for i in range(6)]
    assert owners == [r.pk for r in sorted(reps, key=lambda u: u.pk)] * 2


def test_capacity_based_leads_go_to_the_rep_with_most_room(plan):
    west = plan.t["west"]
    Territory.objects.filter(pk=west.pk).update(lead_assignment="capacity")
    busy, free = make_user(capacity_accounts=10), make_user(capacity_accounts=10)
    assign(west, busy)
    assign(west, free, slot="backup")
    for i in range(3):
        Lead.objects.create(company=f"Old {i}", owner=busy)
    lead = services.lead_save(lead=Lead(company="New", country="US", state="US-CA"))
    assert lead.owner_id == free.pk and lead.territory_id == west.pk and lead.routing_trace


def test_manual_routing_holds_until_a_rule_claims_the_account(plan):
    admin = make_user("admin")
    account = services.account_save(account=Account(name="Berlin GmbH", country="DE"))
    services.accounts_route_manually(account_ids=[account.pk], territory=plan.t["east"], by=admin, reason="Exec ask")
    services.account_route(account=account)
    assert placement.placement(account).territory == plan.t["east"]
    row = AccountTerritory.objects.get(account=account, valid_to__isnull=True)
    assert (row.source, row.reason, row.routed_by) == ("manual", "Exec ask", admin)


def test_compiled_plan_is_rebuilt_only_when_the_version_moves(plan):
    first = services.plan_index(plan=plan)
    assert services.plan_index(plan=plan) is first
    services.plan_touch(plan=plan)
    assert services.plan_index(plan=plan) is not first


def test_route_preview_stores_nothing(plan):
    rep = make_user()
    assign(plan.t["west"], rep)
    preview = api.preview({"country": "US", "state": "US-CA", "industry": "621"})
    assert preview["territory"]["code"] == plan.t["west"].code and preview["owner"]["username"] == rep.username
    assert [(o["territory"]["code"], o["credit_percent"]) for o in preview["overlays"]] == [("HC-OVERLAY", 40)]
    assert AccountTerritory.objects.count() == 0


def test_unassigned_arrivals_alert_admins_once_per_batch(plan, mailoutbox):
    from routing import alerts
    from routing.models import Notification

    admin = make_user("admin")
    for i in range(3):
        services.account_save(account=Account(name=f"Orphan {i}", country="DE"))
    make_account(name="Routed", country="US", state="US-CA", territory=plan.t["west"])
    assert alerts.unassigned_alert_send() == 3
    assert Notification.objects.filter(user=admin).count() == 1
    assert len(mailoutbox) == 1 and "3 new accounts" in mailoutbox[0].subject
    assert alerts.unassigned_alert_send() == 0


def test_a_lock_records_who_set_it(plan):
    admin = make_user("admin")
    account = services.account_save(account=Account(name="Acme", country="US", state="US-CA"))
    services.account_lock(account=account, territory=plan.t["east"], by=admin)
    row = AccountTerritory.objects.get(account=account, is_primary=True, valid_to__isnull=True)
    assert (row.source, row.routed_by, row.reason) == ("lock", admin, "Locked to US-EAST")


def test_a_reused_plan_id_does_not_reuse_a_stale_compiled_plan(plan):
    """SQLite hands out a deleted row's id again; the new plan's rules must be the ones used."""
    assert engine.resolve(services.plan_index(plan=plan), {"country": "DE"}).territory_id is None
    pk = plan.pk
    plan.delete()
    reborn = make_plan(name="Reborn", id=pk)
    make_territory(reborn, code="DE", rule={"all": [{"field": "country", "op": "eq", "value": "DE"}]})
    assert engine.resolve(services.plan_index(plan=reborn), {"country": "DE"}).territory_id is not None


def test_owners_follow_leave_with_no_refresh(plan):
    """Owners are computed from today's assignments and leaves: nothing to copy, nothing stale."""
    primary, backup = make_user(), make_user()
    assign(plan.t["west"], primary)
    assign(plan.t["west"], backup, slot="backup")
    account = services.account_save(account=Account(name="Acme", country="US", state="US-CA"))
    assert placement.placement(account).owner == primary
    today = timezone.localdate()
    Leave.objects.create(user=primary, start=today, end=today + dt.timedelta(days=3))
    assert placement.placement(account).owner == backup
    assert placement.accounts_owned_by(backup).filter(pk=account.pk).exists()
    assert not placement.accounts_owned_by(primary).exists()
    Leave.objects.filter(user=primary).update(start=today + dt.timedelta(days=1))  # postponed
    assert placement.placement(account).owner == primary


def test_the_old_owner_refresh_schedule_is_gone(db):
    from django_q.models import Schedule

    assert not Schedule.objects.filter(func="routing.tasks.accounts_owner_refresh_daily").exists()
