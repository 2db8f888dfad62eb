"""Every operator's three forms agree: rule_to_q (SQL) selects exactly the rows the Python
evaluator (scalar) and the column masks (vector) accept, on random rules against random accounts
stored in the real database (SQLite by default, PostgreSQL with DATABASE_URL)."""

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.engine import COLUMNS, OPERATORS, RuleError, compile_rule
from routing.engine.fields import FORM_KINDS
from routing.engine.masks import rule_mask
from routing.engine.vector import Columns
from routing.sql import LEAD_COLUMNS, rule_to_q
from salesos.models import Account, Lead
from tests.engine.strategies import records, rules

pytestmark = pytest.mark.django_db

_TEXT_COLUMNS = ("country", "region", "state", "city", "metro", "postal_code", "industry_code", "name", "domain")


def _store(rows: list[dict]) -> list[dict]:
    """Save rows as accounts; return them as the engine sees them, read back from the database."""
    Account.objects.all().delete()
    accounts = []
    for i, row in enumerate(rows):
        values = {COLUMNS[k]: v for k, v in row.items() if k in COLUMNS}
        for column in _TEXT_COLUMNS:  # text columns are NOT NULL: missing is ""
            values[column] = values.get(column) or ""
        values["name"] = values["name"] or f"nameless {i}"
        accounts.append(Account(**values))
    Account.objects.bulk_create(accounts)
    by_column = {column: field for field, column in COLUMNS.items()}
    return [
        {"id": row["id"], **{by_column[c]: v for c, v in row.items() if c in by_column}}
        for row in Account.objects.values("id", *COLUMNS.values())
    ]


def test_every_operator_has_a_scalar_a_vector_and_a_sql_form():
    missing = [(name, kind) for name, op in OPERATORS.items() for kind in FORM_KINDS if kind not in op.forms]
    assert missing == []
    assert {kind for op in OPERATORS.values() for kind in op.forms} == set(FORM_KINDS)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                HealthCheck.too_slow])
@given(rows=st.lists(records(ids=()), min_size=1, max_size=25), rule_list=st.lists(rules(), min_size=1, max_size=6))
def test_scalar_vector_and_sql_forms_select_the_same_rows(rows, rule_list):
    stored = _store(rows)
    ids = np.asarray([r["id"] for r in stored])
    cols = Columns.from_records(stored)
    every_row = np.arange(len(stored))
    for rule in rule_list:
        compiled = compile_rule(rule)
        scalar = {r["id"] for r in stored if compiled.matches(r)}
        vector = set(ids[rule_mask(compiled.rule)(cols, every_row)].tolist())
        sql = set(Account.objects.filter(rule_to_q(rule)).values_list("id", flat=True))
        assert vector == scalar, (compiled.rule, [r for r in stored if r["id"] in vector ^ scalar])
        assert sql == scalar, (compiled.rule, [r for r in stored if r["id"] in sql ^ scalar])


def test_empty_rule_selects_every_row():
    stored = _store([{"name": "A"}, {"name": "B"}])
    assert Account.objects.filter(rule_to_q({})).count() == len(stored) == 2


def test_missing_values_are_null_safe():
    _store([{"name": "none"}, {"name": "some", "employees": 10, "industry": "622110", "country": "US"}])
    names = lambda rule: sorted(Account.objects.filter(rule_to_q(rule)).values_list("name", flat=True))  # noqa: E731
    assert names({"field": "employees", "op": "ne", "value": 5}) == ["none", "some"]
    assert names({"field": "employees", "op": "not_in", "value": [10]}) == ["none"]
    assert names({"field": "employees", "op": "lt", "value": 100}) == ["some"]
    assert names({"field": "industry", "op": "not_in", "value": ["62"]}) == ["none"]
    assert names({"field": "industry", "op": "in", "value": ["62"]}) == ["some"]
    assert names({"field": "country", "op": "is_empty", "value": True}) == ["none"]
    assert names({"field": "annual_revenue", "op": "is_empty", "value": True}) == ["none", "some"]


def test_like_wildcards_and_accents_are_literal():
    _store([{"name": "50%_off"}, {"name": "50x off"}, {"name": "ÁCME"}, {"name": "ácme"}, {"name": "x\\y"}])
    names = lambda rule: sorted(Account.objects.filter(rule_to_q(rule)).values_list("name", flat=True))  # noqa: E731
    assert names({"field": "name", "op": "prefix", "value": "50%_"}) == ["50%_off"]
    assert names({"field": "name", "op": "prefix", "value": "x\\"}) == ["x\\y"]
    # ASCII letters fold, accented ones do not: "ÁCME" and "ácme" differ in their first letter.
    assert names({"field": "name", "op": "eq", "value": "ácME"}) == ["ácme"]


def test_money_compares_as_decimal():
    _store([{"name": "a", "annual_revenue": Decimal("1000000.01")},
            {"name": "b", "annual_revenue": Decimal("1000000")}])
    q = rule_to_q({"field": "annual_revenue", "op": "gt", "value": "1000000"})
    assert list(Account.objects.filter(q).values_list("name", flat=True)) == ["a"]


def test_lead_columns_map_name_to_company_and_refuse_domain():
    Lead.objects.create(company="Acme", country="US")
    q = rule_to_q({"field": "name", "op": "eq", "value": "acme"}, columns=LEAD_COLUMNS)
    assert Lead.objects.filter(q).count() == 1
    with pytest.raises(RuleError) as err:
        rule_to_q({"all": [{"field": "domain", "op": "eq", "value": "a.com"}]}, columns=LEAD_COLUMNS)
    assert err.value.problems[0].path == "all[0].field"


def test_invalid_rule_raises_rule_error():
    with pytest.raises(RuleError):
        rule_to_q({"field": "employees", "op": "gt", "value": "many"})
