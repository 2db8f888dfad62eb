import datetime as dt

import pytest
from django.utils import timezone

from territories.models import AccountTerritory
from tests.factories import assert_db_refuses, make_account, make_plan, make_territory

pytestmark = pytest.mark.django_db



def _row(account, territory, **kw) -> AccountTerritory:
    return AccountTerritory.objects.create(account=account, territory=territory, plan=territory.plan, **kw)


def test_one_current_primary_territory_per_account_per_plan():
    plan, draft = make_plan(), make_plan(status="draft")
    west, east = make_territory(plan), make_territory(plan)
    account = make_account()
    _row(account, west)
    assert_db_refuses(lambda: _row(account, east))
    # The same account may have a primary in a draft plan, and any number of overlay rows.
    _row(account, make_territory(draft))
    _row(account, make_territory(plan, is_overlay=True), is_primary=False, credit_percent=50)
    _row(account, make_territory(plan, is_overlay=True), is_primary=False, credit_percent=25)


def test_ownership_is_effective_dated():
    plan = make_plan()
    west, east = make_territory(plan), make_territory(plan)
    account = make_account()
    start = timezone.now() - dt.timedelta(days=30)
    moved = timezone.now() - dt.timedelta(days=10)
    first = _row(account, west, valid_from=start)
    # A re-route closes the current row and inserts its successor.
    AccountTerritory.objects.filter(pk=first.pk).update(valid_to=moved)
    _row(account, east, valid_from=moved)

    def owner_on(when):
        row = AccountTerritory.objects.filter(account=account, plan=plan, is_primary=True, valid_from__lte=when)
        row = row.exclude(valid_to__lte=when).get()
        return row.territory

    assert owner_on(start + dt.timedelta(days=1)) == west
    assert owner_on(timezone.now()) == east


def test_credit_and_validity_range_are_checked():
    plan = make_plan()
    account, territory = make_account(), make_territory(plan)
    assert_db_refuses(lambda: _row(account, territory, credit_percent=101))
    now = timezone.now()
    assert_db_refuses(lambda: _row(account, territory, valid_from=now, valid_to=now - dt.timedelta(seconds=1)))


def test_deletes_cascade_to_routing_rows_without_database_keys():
    """AccountTerritory and RoutingDecision carry no database foreign keys (bulk writes); deleting
    an account, a territory or a plan through Django still removes what points at it."""
    from routing import services
    from territories.models import RoutingDecision, Territory

    plan = make_plan()
    us = make_territory(plan, code="US", rule={"field": "country", "op": "eq", "value": "US"})
    gone = make_territory(plan, code="GONE", type=Territory.Type.SIZE,
                          rule={"field": "employees", "op": "gte", "value": 10})
    kept = make_account(name="Kept", country="US")
    dropped = make_account(name="Dropped", country="US")
    other = make_account(name="Big", employees=50)
    for account in (kept, dropped, other):
        services.account_route(account=account, plan=plan)
    assert AccountTerritory.objects.filter(plan=plan).count() == 3
    assert RoutingDecision.objects.filter(plan=plan).count() == 3

    dropped.delete()
    assert not AccountTerritory.objects.filter(account_id=dropped.pk).exists()
    Territory.objects.filter(pk=gone.pk).delete()
    assert not AccountTerritory.objects.filter(territory_id=gone.pk).exists()
    assert AccountTerritory.objects.filter(account=kept, territory=us).exists()
    plan.delete()
    assert not AccountTerritory.objects.exists() and not RoutingDecision.objects.exists()
