"""Activation under a concurrent reader (PostgreSQL): while a plan activates, a reader on its own
connection keeps asking where every account sits in the active plan, and never sees an account
with no current primary territory or with two. The swap (statuses, old rows ended, new rows
written) is one transaction, so the reader sees the old plan whole, then the new one whole."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, connections

from planning.plans import activate, services
from routing.batch import plan_reroute
from salesos.models import Account
from territories import services as territory_services
from territories.models import AccountTerritory, Territory, TerritoryPlan
from tests import factories
from tests.planning.plan_helpers import company, today

pytestmark = pytest.mark.django_db(transaction=True)
ACCOUNTS = 400
SLOW = 0.5  # seconds added inside the activation, between ending the old rows and writing the new

# One statement, so one snapshot: per account, its current primary rows in the active plan.
READ = f"""
SELECT a.id, COUNT(r.id) FROM {Account._meta.db_table} a
LEFT JOIN {AccountTerritory._meta.db_table} r ON r.account_id = a.id AND r.is_primary AND r.valid_to IS NULL
     AND r.plan_id IN (SELECT id FROM {TerritoryPlan._meta.db_table} WHERE status = 'active')
GROUP BY a.id HAVING COUNT(r.id) <> 1
"""


def _reader(stop: threading.Event, seen: list, reads: list[int], plans: list[int]) -> None:
    try:
        with connections["default"].cursor() as cursor:
            while not stop.is_set():
                cursor.execute(READ)
                seen.extend(cursor.fetchall())
                cursor.execute(f"SELECT id FROM {TerritoryPlan._meta.db_table} WHERE status = 'active'")  # noqa: S608
                plans.append(cursor.fetchone()[0])
                reads[0] += 1
    finally:
        connections.close_all()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs a second connection reading during the swap")
def test_a_reader_never_sees_zero_or_two_primaries_during_activation(monkeypatch):
    world = company()
    admin, old, new = world["admin"], world["plan"], world["draft"]
    Account.objects.bulk_create(Account(name=f"Bulk {i}", country="US", state=("US-CA", "US-NY")[i % 2])
                                for i in range(ACCOUNTS))
    catch_all = factories.make_territory(old, code="REST", rule={})
    factories.assign(catch_all, world["west_rep"])
    plan_reroute(plan=old)
    factories.make_territory(new, code="REST", rule={})
    territory_services.assignment_add(territory=Territory.objects.get(plan=new, code="REST"),
                                      user=world["east_rep"], slot="primary", by=admin)
    services.plan_submit(plan=new, by=admin)
    services.plan_decide(plan=new, by=admin, decision="approve")
    assert not [row for row in _counts() if row[1] != 1]

    real = activate.plan_reroute

    def slow(**kwargs):
        time.sleep(SLOW)  # the old rows are ended (uncommitted) and the new ones not yet written
        result = real(**kwargs)
        time.sleep(SLOW)
        return result

    monkeypatch.setattr(activate, "plan_reroute", slow)
    stop, seen, reads, plans = threading.Event(), [], [0], []
    reader = threading.Thread(target=_reader, args=(stop, seen, reads, plans))
    reader.start()
    try:
        time.sleep(0.2)
        activate.plan_activate(plan=new, on=today() + dt.timedelta(days=1), by=admin)
        time.sleep(0.2)
    finally:
        stop.set()
        reader.join()
    assert reads[0] > 5 and {old.pk, new.pk} == set(plans)  # it read before, during and after the swap
    assert seen == []
    assert TerritoryPlan.active() == new and not [row for row in _counts() if row[1] != 1]


def _counts():
    with connection.cursor() as cursor:
        cursor.execute(READ.replace("HAVING COUNT(r.id) <> 1", ""))
        return cursor.fetchall()
