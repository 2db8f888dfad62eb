"""A re-route scoped to the territories a change touched ends exactly where a full re-route
does (rows, conflict flags and stored decisions), over generated plans and random changes of a
rule, priority, type, parent or named list."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing import batch, services
from routing.engine import COLUMNS, TERRITORY_TYPES, compile_rule
from salesos.models import Account
from territories.models import AccountTerritory, Territory
from tests.engine.strategies import plans, records, rules
from tests.factories import make_plan

pytestmark = pytest.mark.django_db

_TEXT_COLUMNS = ("country", "region", "state", "city", "metro", "postal_code", "industry_code", "name", "domain")


def _accounts(rows: list[dict]) -> list[int]:
    made = []
    for i, row in enumerate(rows):
        values = {COLUMNS[k]: v for k, v in row.items() if k in COLUMNS}
        for column in _TEXT_COLUMNS:  # text columns are NOT NULL: missing is ""
            values[column] = values.get(column) or ""
        values["name"] = values["name"] or f"nameless {i}"
        made.append(Account(**values))
    return [a.pk for a in Account.objects.bulk_create(made)]


# Broad rules over the fields the generated accounts carry, so that accounts match several
# territories at once (ties, ancestors dropping out, losers): where scoped runs used to go wrong.
BROAD = [
    {},
    {"field": "country", "op": "eq", "value": "US"},
    {"field": "country", "op": "in", "value": ["US", "DE"]},
    {"field": "country", "op": "ne", "value": "CA"},
    {"field": "employees", "op": "gte", "value": 50},
    {"field": "employees", "op": "lt", "value": 500},
    {"field": "industry", "op": "in", "value": ["62"]},
    {"field": "industry", "op": "not_in", "value": ["5"]},
    {"field": "state", "op": "in", "value": ["US-CA"]},
    {"field": "state", "op": "not_in", "value": ["US-NY"]},
    {"field": "metro", "op": "eq", "value": "Denver"},
]
territory_rules = st.one_of(st.sampled_from(BROAD), st.sampled_from(BROAD), rules(max_leaves=2))


def _build(spec, account_ids: list[int], rule_list: list[dict]):
    """The generated plan in the database; spec ids 100+i become territories[i] (with rule
    ``rule_list[i]``), named account ids 1..5 become the first accounts."""
    plan = make_plan()
    territories: list[Territory] = []
    for i, t in enumerate(spec.territories):
        territory = Territory.objects.create(
            plan=plan, code=t.code, name=t.code, type=t.type, priority=t.priority,
            rule=compile_rule(rule_list[i % len(rule_list)]).rule, is_overlay=t.is_overlay,
            credit_percent=t.credit_percent,
            status=t.status, parent=territories[t.parent_id - 100] if t.parent_id is not None else None,
        )
        territory.named_accounts.set([account_ids[i - 1] for i in t.named_account_ids if i <= len(account_ids)])
        territories.append(territory)
    return plan, territories


def _subtree(territory: Territory) -> set[int]:
    found, stack = set(), [territory.pk]
    while stack:
        t_id = stack.pop()
        found.add(t_id)
        stack.extend(Territory.objects.filter(parent_id=t_id).values_list("pk", flat=True))
    return found


def _apply(change: tuple, territories: list[Territory], account_ids: list[int]) -> Territory:
    kind, index, value = change
    target = territories[index % len(territories)]
    if kind == "rule":
        Territory.objects.filter(pk=target.pk).update(rule=compile_rule(value).rule)
    elif kind == "priority":
        Territory.objects.filter(pk=target.pk).update(priority=value)
    elif kind == "type":
        Territory.objects.filter(pk=target.pk).update(type=value)
    elif kind == "parent":  # any territory outside its own subtree, or the root
        blocked = _subtree(target)
        allowed = [t for t in territories if t.pk not in blocked]
        parent = allowed[value % len(allowed)] if allowed and value < len(territories) else None
        Territory.objects.filter(pk=target.pk).update(parent=parent)
    else:  # the named list
        target.named_accounts.set([account_ids[i % len(account_ids)] for i in value])
    services.plan_touch(plan=target.plan)
    return target


def _state(plan) -> list[tuple]:
    return sorted(
        AccountTerritory.objects.filter(plan=plan, valid_to__isnull=True).values_list(
            "account_id", "territory_id", "is_primary", "credit_percent", "source", "conflict",
            "decision__matched", "decision__locked_territory_id",
        ),
        key=repr,
    )


changes = st.one_of(
    st.tuples(st.just("rule"), st.integers(0, 20), territory_rules),
    st.tuples(st.just("priority"), st.integers(0, 20), st.integers(0, 3)),
    st.tuples(st.just("type"), st.integers(0, 20), st.sampled_from(TERRITORY_TYPES)),
    st.tuples(st.just("parent"), st.integers(0, 20), st.integers(0, 30)),
    st.tuples(st.just("named"), st.integers(0, 20), st.sets(st.integers(0, 40), max_size=4)),
)


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(spec=plans(max_territories=10), rows=st.lists(records(ids=()), min_size=5, max_size=30),
       rule_list=st.lists(territory_rules, min_size=10, max_size=10),
       change_list=st.lists(changes, min_size=1, max_size=2))
def test_scoped_reroute_after_a_change_equals_a_full_reroute(spec, rows, rule_list, change_list):
    with transaction.atomic():
        services._indexes.clear()
        account_ids = _accounts(rows)
        plan, territories = _build(spec, account_ids, rule_list)
        now = timezone.now()
        batch.plan_reroute(plan=plan, now=now)
        for step, change in enumerate(change_list, start=1):
            target = _apply(change, territories, account_ids)
            later = now + dt.timedelta(minutes=step)
            with transaction.atomic():
                batch.plan_reroute(plan=plan, now=later)
                full = _state(plan)
                transaction.set_rollback(True)
            batch.plan_reroute(plan=plan, territory_ids=[target.pk], now=later)
            assert _state(plan) == full, change
        transaction.set_rollback(True)


def test_scope_takes_accounts_whose_decision_matched_the_changed_territory():
    """Issue 8, section 7: the Denver account matched T007 (so its parent T002 dropped out) and
    sits in T013, which beats T007 on tier. T007's new rule no longer matches it: T002 is a
    candidate again and wins, though the account is neither in T007's subtree nor matched by
    its new rule."""
    plan = make_plan()
    t002 = Territory.objects.create(
        plan=plan, code="T002", name="T002", type=Territory.Type.HYBRID, priority=2,
        rule={"field": "annual_revenue", "op": "between", "value": ["1000000", "10000000"]},
    )
    t007 = Territory.objects.create(
        plan=plan, code="T007", name="T007", type=Territory.Type.GEOGRAPHIC, parent=t002,
        rule={"field": "state", "op": "not_in", "value": ["US-WA", "US-CO"]},
    )
    t013 = Territory.objects.create(
        plan=plan, code="T013", name="T013", type=Territory.Type.HYBRID, priority=1,
        rule={"field": "metro", "op": "eq", "value": "Denver"},
    )
    account = Account.objects.create(name="Denver Co", metro="Denver", annual_revenue=3_000_000)
    now = timezone.now()
    batch.plan_reroute(plan=plan, now=now)
    assert AccountTerritory.objects.get(account=account, valid_to__isnull=True).territory_id == t013.pk

    Territory.objects.filter(pk=t007.pk).update(rule={"field": "metro", "op": "eq", "value": "Austin"})
    services.plan_touch(plan=plan)
    result = batch.plan_reroute(plan=plan, territory_ids=[t007.pk], now=now + dt.timedelta(minutes=1))
    assert result.total >= 1 and result.moved == 1
    assert AccountTerritory.objects.get(account=account, valid_to__isnull=True).territory_id == t002.pk
