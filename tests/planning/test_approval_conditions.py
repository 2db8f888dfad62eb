"""Conditions as data: validation with paths, evaluation that agrees with plain Python."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planning.approvals.conditions import ConditionError, condition_describe, condition_errors, condition_holds

FACTS = {
    "kind": "move_accounts",
    "initiator_role": "manager",
    "moved_accounts": 40,
    "moved_deals": 3,
    "moved_pipeline": Decimal("300000"),
}


def test_the_issue_example_holds_on_pipeline_or_accounts():
    condition = {
        "any": [
            {"fact": "moved_pipeline", "op": "gt", "value": 250000},
            {"fact": "moved_accounts", "op": "gt", "value": 100},
        ]
    }
    assert condition_holds(condition, FACTS)
    assert not condition_holds(condition, {**FACTS, "moved_pipeline": Decimal("250000")})
    assert condition_holds(condition, {**FACTS, "moved_pipeline": Decimal(0), "moved_accounts": 101})


def test_no_approval_for_an_admin_moving_few_accounts():
    condition = {
        "all": [
            {"fact": "initiator_role", "op": "eq", "value": "admin"},
            {"fact": "moved_accounts", "op": "lt", "value": 10},
        ]
    }
    assert not condition_holds(condition, FACTS)
    assert condition_holds(condition, {**FACTS, "initiator_role": "admin", "moved_accounts": 9})
    assert condition_holds({"not": condition}, FACTS)


def test_the_empty_condition_always_holds():
    assert condition_holds({}, FACTS) and condition_holds(None, FACTS)
    assert condition_errors({}) == []


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"fact": "pipeline", "op": "gt", "value": 1}, "condition.fact: unknown fact 'pipeline'"),
        ({"fact": "moved_deals", "op": "in", "value": 1}, "condition.op: 'in' does not compare numbers"),
        ({"fact": "moved_deals", "op": "gt", "value": "many"}, "condition.value: Open deals moved needs a number"),
        ({"fact": "moved_deals", "op": "gt", "value": -1}, "cannot be negative"),
        ({"fact": "kind", "op": "gt", "value": "merge"}, "condition.op: 'gt' does not apply to kind of change"),
        ({"fact": "kind", "op": "in", "value": ["merge", "teleport"]}, "condition.value: teleport is not a valid"),
        ({"any": []}, "condition.any: a group needs a non-empty list"),
        (
            {"all": [{"fact": "kind", "op": "eq", "value": "merge"}, 3]},
            "condition.all[1]: a condition must be an object",
        ),
        ({"all": [], "any": []}, "a group has exactly one key"),
        ({"op": "gt"}, "needs 'fact', 'op' and 'value'"),
        ("moved_pipeline > 5", "condition: a condition must be an object"),
    ],
)
def test_bad_conditions_are_named_with_their_path(condition, message):
    errors = condition_errors(condition)
    assert any(message in e for e in errors), errors
    with pytest.raises(ConditionError):
        condition_holds(condition, FACTS)


def test_describe_reads_like_a_sentence():
    text = condition_describe(
        {
            "any": [
                {"fact": "moved_pipeline", "op": "gt", "value": 250000},
                {"fact": "kind", "op": "in", "value": ["merge", "carve"]},
            ]
        }
    )
    assert (
        text == "(open pipeline moved more than 250000 or kind of change is one of Merge territories, Carve out a "
        "child territory)"
    )


NUMBER_FACT = st.sampled_from(["moved_accounts", "moved_deals", "moved_pipeline"])
OPS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
}
leaf = st.builds(
    lambda f, o, v: {"fact": f, "op": o, "value": v}, NUMBER_FACT, st.sampled_from(sorted(OPS)), st.integers(0, 50)
)
conditions = st.recursive(
    leaf,
    lambda inner: st.one_of(
        st.builds(lambda c: {"all": c}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda c: {"any": c}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, inner),
    ),
    max_leaves=8,
)


def _python(condition, facts):
    if "all" in condition:
        return all(_python(c, facts) for c in condition["all"])
    if "any" in condition:
        return any(_python(c, facts) for c in condition["any"])
    if "not" in condition:
        return not _python(condition["not"], facts)
    return OPS[condition["op"]](facts[condition["fact"]], condition["value"])


@given(conditions, st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_evaluation_agrees_with_plain_python_and_leaves_the_condition_alone(condition, accounts, deals, pipeline):
    facts = {**FACTS, "moved_accounts": accounts, "moved_deals": deals, "moved_pipeline": Decimal(pipeline)}
    before = repr(condition)
    assert condition_errors(condition) == []
    assert condition_holds(condition, facts) == _python(condition, facts)
    assert repr(condition) == before
