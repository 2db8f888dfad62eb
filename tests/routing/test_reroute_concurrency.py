"""Full re-routes while people keep editing accounts (issue 8, section 2): every run finishes, no
run closes a row it did not read, and afterwards every account sits where routing it alone puts
it. PostgreSQL only: the editor is a real second connection writing while the runs go."""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

import pytest
from django.db import connection, connections
from django.utils import timezone

from routing import batch, engine, services
from routing.engine import vector
from routing.models import RoutingJob
from salesos.models import Account
from territories.models import AccountTerritory, Territory
from tests.factories import make_plan, make_territory

pytestmark = pytest.mark.django_db(transaction=True)

STATES = ["US-CA", "US-NY", "US-TX", "US-WA", ""]
ACCOUNTS = 300
EDITS = 300  # one every EDIT_PAUSE seconds through account_save, on the editor's own connection
EDIT_PAUSE = 0.03
RUNS = 10
SLOW = 0.15  # seconds added to the routing step and to the diff: a big run's windows, in small


@pytest.fixture(autouse=True)
def fresh_compiled_plans():
    services._indexes.clear()
    yield
    services._indexes.clear()


def _plan():
    plan = make_plan()
    for state in STATES[:-1]:
        make_territory(plan, code=state, type=Territory.Type.GEOGRAPHIC, priority=1,
                       rule={"field": "state", "op": "eq", "value": state})
    # A catch-all whose priority flips between runs, so every run moves most accounts.
    everyone = make_territory(plan, code="ALL", type=Territory.Type.SIZE, priority=0, rule={})
    rng = random.Random(5)
    Account.objects.bulk_create(
        Account(name=f"Account {i}", country="US", state=rng.choice(STATES)) for i in range(ACCOUNTS)
    )
    return plan, everyone


def _editor(account_ids: list[int], stop: threading.Event, errors: list[BaseException], done: list[int]) -> None:
    rng = random.Random(11)
    try:
        for _ in range(EDITS):
            if stop.is_set():
                break
            account = Account.objects.get(pk=rng.choice(account_ids))
            account.state = rng.choice([s for s in STATES if s != account.state])
            services.account_save(account=account)
            done.append(account.pk)
            time.sleep(EDIT_PAUSE)
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        connections.close_all()


def test_full_reroutes_during_account_edits_all_finish_and_leave_every_account_routed(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs a second connection writing at the same time: PostgreSQL")
    plan, everyone = _plan()
    batch.plan_reroute(plan=plan)
    account_ids = list(Account.objects.values_list("pk", flat=True))

    real_route, real_diff = vector.route, batch.reroute.diff

    def slow_route(*args, **kwargs):
        time.sleep(SLOW)
        return real_route(*args, **kwargs)

    def slow_diff(*args, **kwargs):
        time.sleep(SLOW)
        return real_diff(*args, **kwargs)

    monkeypatch.setattr(vector, "route", slow_route)
    monkeypatch.setattr(batch.reroute, "diff", slow_diff)

    stop, errors, edited = threading.Event(), [], []
    editor = threading.Thread(target=_editor, args=(account_ids, stop, errors, edited))
    editor.start()
    jobs = []
    try:
        while len(jobs) < RUNS or (editor.is_alive() and len(jobs) < 5 * RUNS):
            Territory.objects.filter(pk=everyone.pk).update(priority=2 if len(jobs) % 2 == 0 else 0)
            services.plan_touch(plan=plan)
            job = RoutingJob.objects.create(plan=plan, scope=RoutingJob.Scope.FULL)
            jobs.append(batch.reroute_job_run(job_id=job.pk))
    finally:
        stop.set()
        editor.join()

    assert not errors, errors
    assert len(edited) > 50  # the editor really wrote while the runs went
    assert [(j.status, j.error) for j in jobs if j.status != RoutingJob.Status.DONE] == []
    assert sum(j.changed for j in jobs) > RUNS * ACCOUNTS // 2  # the runs really moved accounts
    assert sum(j.result["counts"]["settled"] for j in jobs) > 0  # and met edits made meanwhile

    compiled = services.plan_index(plan=plan)
    current = {
        account_id: (territory_id, conflict)
        for account_id, territory_id, conflict in AccountTerritory.objects.filter(
            plan=plan, is_primary=True, valid_to__isnull=True
        ).values_list("account_id", "territory_id", "conflict")
    }
    wrong = []
    for account in Account.objects.order_by("pk"):
        decision = engine.resolve(compiled, services.record_of(account))
        if current.get(account.pk) != (decision.territory_id, decision.conflict):
            wrong.append((account.pk, account.state, current.get(account.pk), decision.territory_id))
    assert wrong == []
    # History stays a history: per account, no two rows of one plan overlap in time.
    rows = sorted(
        AccountTerritory.objects.filter(plan=plan, is_primary=True).values_list("account_id", "valid_from", "valid_to")
    )
    far = timezone.now() + dt.timedelta(days=1)
    overlaps = [
        (a, b) for a, b in zip(rows, rows[1:], strict=False)
        if a[0] == b[0] and (a[2] or far) > b[1]
    ]
    assert overlaps == []
