"""Locking accounts in bulk (``routing.batch.accounts_lock_move``) writes exactly the rows and
decisions the engine gives locked accounts: a re-route afterwards finds nothing to change."""

from __future__ import annotations

import pytest
from django.db import transaction

from routing import batch, services
from salesos.models import Account
from territories.models import AccountLock, AccountTerritory, RoutingDecision
from tests.routing.test_batch import random_plan

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    services._indexes.clear()
    yield
    services._indexes.clear()


def _primaries(plan):
    return dict(AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True)
                .values_list("account_id", "territory_id"))


def _current(plan):
    return sorted(AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True).values_list(
        "account_id", "territory_id", "is_primary", "credit_percent", "source", "conflict",
        "decision__matched", "decision__locked_territory_id"))


def test_a_bulk_lock_writes_what_the_engine_gives_locked_accounts():
    plan = random_plan()
    batch.plan_reroute(plan=plan)
    made = {t.code: t for t in plan.territories_made}
    target = made["US-TX-94"]
    before = _primaries(plan)
    placed = [a for a, t in sorted(before.items()) if t != target.pk][:40]
    unplaced = sorted(set(Account.objects.values_list("pk", flat=True)) - set(before))[:5]
    overlays_before = sorted(AccountTerritory.objects.filter(plan=plan, is_primary=False, valid_to__isnull=True)
                             .values_list("account_id", "territory_id", "credit_percent"))
    moving = placed + unplaced
    result = batch.accounts_lock_move(plan=plan, account_ids=moving, to_ids=[target.pk] * len(moving),
                                      reason="Reassignment #1")
    assert (result.moved, result.rerouted) == (len(placed), len(unplaced))
    after = _primaries(plan)
    assert all(after[a] == target.pk for a in moving)
    assert all(after[a] == t for a, t in before.items() if a not in moving)
    assert set(AccountLock.objects.filter(account_id__in=moving).values_list("territory_id", flat=True)) == {target.pk}
    assert AccountLock.objects.filter(account_id__in=moving).count() == len(moving)
    # Overlay rows are the rules' business: untouched.
    assert sorted(AccountTerritory.objects.filter(plan=plan, is_primary=False, valid_to__isnull=True)
                  .values_list("account_id", "territory_id", "credit_percent")) == overlays_before
    # The history: the old rows are closed, not erased; the new ones say why.
    assert AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=False,
                                           account_id__in=placed).count() == len(placed)
    new_rows = AccountTerritory.objects.filter(plan=plan, is_primary=True, valid_to__isnull=True, account_id__in=placed)
    assert set(new_rows.values_list("source", "reason")) == {("lock", "Reassignment #1")}
    # The engine, asked again, agrees with every row and decision written.
    written = _current(plan)
    decisions = RoutingDecision.objects.count()
    again = batch.plan_reroute(plan=plan, account_ids=moving)
    assert again.changed == 0 and _current(plan) == written and RoutingDecision.objects.count() == decisions
    full = batch.plan_reroute(plan=plan, dry_run=True)
    assert full.changed == 0


def test_a_target_the_engine_would_not_honour_goes_to_the_engine():
    plan = random_plan(seed=3)
    batch.plan_reroute(plan=plan)
    overlay = next(t for t in plan.territories_made if t.is_overlay)
    accounts = sorted(_primaries(plan))[:5]
    before = _current(plan)
    result = batch.accounts_lock_move(plan=plan, account_ids=accounts, to_ids=[overlay.pk] * 5)
    assert (result.moved, result.rerouted) == (0, 5)
    # The lock is set (the engine ignores an overlay lock, its decision notes it), the rows stay
    # where the rules put them.
    assert [row[:7] for row in _current(plan)] == [row[:7] for row in before]
    locks = AccountLock.objects.filter(account_id__in=accounts)
    assert set(locks.values_list("territory_id", flat=True)) == {overlay.pk}


def test_a_failure_after_the_move_leaves_nothing_moved():
    plan = random_plan(seed=5)
    batch.plan_reroute(plan=plan)
    target = next(t for t in plan.territories_made if t.code == "BIG")
    before = _current(plan)
    accounts = [a for a, t in sorted(_primaries(plan).items()) if t != target.pk][:10]
    with pytest.raises(RuntimeError), transaction.atomic():
        batch.accounts_lock_move(plan=plan, account_ids=accounts, to_ids=[target.pk] * 10)
        raise RuntimeError("fault after the move")
    assert _current(plan) == before
    assert not AccountLock.objects.filter(account_id__in=accounts, territory=target).exists()
