"""A change of decision (the matched set, the conflict flag, the lock) is written even when the
winning territory stays: the row's conflict flag and its stored decision follow the rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from routing import batch, services
from salesos.models import Account
from territories.models import AccountTerritory, Territory
from tests import factories
from tests.factories import make_account, make_plan, make_territory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    services._indexes.clear()
    yield
    services._indexes.clear()


def tie_scenario():
    """Issue 8, section 7: T006 (industry 54) ties with T017 (employees >= 50) at priority 3, so
    an account of industry 54 with 7,000 employees sits in T006 with a conflict."""
    plan = make_plan()
    t006 = make_territory(plan, code="T006", type=Territory.Type.INDUSTRY, priority=3,
                          rule={"field": "industry", "op": "in", "value": ["54"]})
    t017 = make_territory(plan, code="T017", type=Territory.Type.SIZE, priority=3,
                          rule={"field": "employees", "op": "gte", "value": 50})
    outside = make_territory(plan, code="T090", type=Territory.Type.GEOGRAPHIC,
                             rule={"field": "country", "op": "eq", "value": "DE"})
    account = make_account(industry_code="541511", employees=7000, country="US")
    return plan, t006, t017, outside, account


def current_primary(account: Account, plan) -> AccountTerritory:
    return AccountTerritory.objects.select_related("decision").get(
        account=account, plan=plan, is_primary=True, valid_to__isnull=True
    )


def move_t017_under(t017: Territory, parent: Territory) -> None:
    Territory.objects.filter(pk=t017.pk).update(parent=parent)
    services.plan_touch(plan=t017.plan)


@pytest.mark.parametrize("path", ["full_reroute", "account_route"])
def test_the_tie_going_away_clears_the_conflict_and_the_stored_decision(path):
    plan, t006, t017, outside, account = tie_scenario()
    start = timezone.now()
    batch.plan_reroute(plan=plan, now=start)
    before = current_primary(account, plan)
    assert before.territory_id == t006.pk and before.conflict
    assert sorted(before.decision.matched) == sorted([t006.pk, t017.pk])

    move_t017_under(t017, outside)  # the account fails the new parent's rule: no tie any more
    later = start + dt.timedelta(minutes=1)
    if path == "full_reroute":
        result = batch.plan_reroute(plan=plan, now=later)
        assert result.changed == 1 and result.moved == 0
    else:
        services.account_route(account=account, plan=plan, now=later)

    after = current_primary(account, plan)
    assert after.territory_id == t006.pk  # the winner stays
    assert not after.conflict
    assert after.decision.matched == [t006.pk]
    # The old row is history, closed when the decision changed.
    assert AccountTerritory.objects.get(pk=before.pk).valid_to == later
    # Nothing further changes: a second run agrees with what is stored.
    again = batch.plan_reroute(plan=plan, now=later + dt.timedelta(minutes=1))
    assert again.changed == 0


def test_a_new_tie_is_written_though_the_winner_stays():
    plan, t006, t017, outside, account = tie_scenario()
    move_t017_under(t017, outside)
    start = timezone.now()
    batch.plan_reroute(plan=plan, now=start)
    assert not current_primary(account, plan).conflict

    Territory.objects.filter(pk=t017.pk).update(parent=None)
    services.plan_touch(plan=plan)
    result = batch.plan_reroute(plan=plan, now=start + dt.timedelta(minutes=1))
    assert result.changed == 1
    row = current_primary(account, plan)
    assert row.territory_id == t006.pk and row.conflict
    assert sorted(row.decision.matched) == sorted([t006.pk, t017.pk])


def test_a_lock_on_the_winning_territory_is_recorded_and_its_removal_too():
    plan, t006, _t017, _outside, account = tie_scenario()
    start = timezone.now()
    services.account_route(account=account, plan=plan, now=start)
    factories.lock(account, t006)
    account.refresh_from_db()
    services.account_route(account=account, plan=plan, now=start + dt.timedelta(minutes=1))
    row = current_primary(account, plan)
    assert row.territory_id == t006.pk and row.decision.locked_territory_id == t006.pk

    factories.lock(account, None)
    result = batch.plan_reroute(plan=plan, now=start + dt.timedelta(minutes=2))
    assert result.changed == 1
    row = current_primary(account, plan)
    assert row.territory_id == t006.pk and row.decision.locked_territory_id is None
