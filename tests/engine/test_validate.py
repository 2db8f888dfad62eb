"""Rule validation: normalisation, and errors that name the faulty node."""

import copy
from decimal import Decimal

import pytest

from routing.engine import FIELDS, MAX_DEPTH, MAX_VALUES, RuleError, validate


def problems(rule):
    with pytest.raises(RuleError) as err:
        validate(rule)
    return [(p.path, p.message) for p in err.value.problems]


def test_design_example_validates_and_normalises():
    rule = {"all": [
        {"field": "industry", "op": "in", "value": ["62"]},
        {"field": "employees", "op": "gte", "value": "500"},
        {"any": [{"field": "state", "op": "in", "value": ["us-ca", " US-OR ", "US-CA"]},
                 {"field": "metro", "op": "eq", "value": " Denver "}]},
    ]}
    before = copy.deepcopy(rule)
    assert validate(rule) == {"all": [
        {"field": "industry", "op": "in", "value": ["62"]},
        {"field": "employees", "op": "gte", "value": 500},
        {"any": [{"field": "state", "op": "in", "value": ["US-CA", "US-OR"]},
                 {"field": "metro", "op": "eq", "value": "Denver"}]},
    ]}
    assert rule == before


@pytest.mark.parametrize("rule", [None, {}, {"all": []}, {"all": [{"all": []}]}, {"any": [{"all": []}]}])
def test_empty_rules_normalise_to_true(rule):
    assert validate(rule) == {}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1000000, 1000000), ("1,000,000", 1000000), (Decimal("2.50"), "2.5"), (2.5, "2.5"), (0.1, "0.1"),
     ("99.99", "99.99"), (Decimal("10.00"), 10)],
)
def test_money_is_json_and_exact(value, expected):
    assert validate({"field": "annual_revenue", "op": "gt", "value": value})["value"] == expected


def test_codes_are_upper_cased_and_region_aliases_resolved():
    assert validate({"field": "country", "op": "in", "value": ["us", "Ca", "US"]})["value"] == ["US", "CA"]
    assert validate({"field": "region", "op": "eq", "value": "Americas"})["value"] == "AMER"
    assert validate({"field": "postal_code", "op": "prefix", "value": 941})["value"] == ["941"]


def test_between_and_lists():
    assert validate({"field": "employees", "op": "between", "value": ["10", 20]})["value"] == [10, 20]
    assert problems({"field": "employees", "op": "between", "value": [20, 10]}) == [
        ("value", "The low bound 20 is greater than the high bound 10")]
    assert problems({"field": "employees", "op": "between", "value": [1]})[0][0] == "value"
    assert problems({"field": "employees", "op": "in", "value": []}) == [
        ("value", "Employees needs at least one value")]
    assert problems({"field": "employees", "op": "eq", "value": [1, 2]})[0][0] == "value"


def test_errors_carry_paths_and_readable_messages():
    rule = {"all": [
        {"field": "foo", "op": "eq", "value": 1},
        {"field": "employees", "op": "gte", "value": "abc"},
        {"any": [{"field": "country", "op": "gt", "value": "US"},
                 {"field": "state", "op": "in", "value": ["US-CA", "California"]}]},
        {"field": "annual_revenue", "op": "gt", "value": "10.005"},
        {"field": "country", "op": "is_empty", "value": "yes"},
        {"field": "metro", "op": "nope", "value": "x"},
        {"field": "city", "op": "eq", "value": "  "},
    ]}
    assert problems(rule) == [
        ("all[0].field", "Unknown field 'foo'"),
        ("all[1].value", "Employees needs a whole number, got 'abc'"),
        ("all[2].any[0].op", "Operator 'gt' does not apply to Country"),
        ("all[2].any[1].value[1]", "State/Province needs an ISO 3166-2 code such as 'US-CA', got 'California'"),
        ("all[3].value", "Annual revenue allows at most 2 decimal places, got '10.005'"),
        ("all[4].value", "'is_empty' needs true or false, got 'yes'"),
        ("all[5].op", "Unknown operator 'nope'"),
        ("all[6].value", "City needs a value (use 'is empty' to match a missing one)"),
    ]


@pytest.mark.parametrize(
    ("rule", "path", "fragment"),
    [
        ([], "", "must be an object"),
        ({"all": [{}]}, "all[0]", "Empty condition"),
        ({"any": []}, "any", "at least one condition"),
        ({"all": {"field": "x"}}, "all", "needs a list"),
        ({"all": [], "any": []}, "", "exactly one key"),
        ({"field": "country", "op": "eq"}, "value", "needs a value"),
        ({"field": "country", "op": "eq", "value": "US", "extra": 1}, "", "Unknown key 'extra'"),
        ({"field": "employees", "op": "eq", "value": True}, "value", "whole number"),
        ({"field": "employees", "op": "eq", "value": 1.5}, "value", "whole number"),
        ({"field": "employees", "op": "eq", "value": 10**12}, "value", "between"),
        ({"field": "annual_revenue", "op": "eq", "value": "NaN"}, "value", "amount"),
        ({"field": "annual_revenue", "op": "eq", "value": 10**15}, "value", "below"),
        # Too many digits to quantize to cents: a range message, not decimal.InvalidOperation.
        ({"field": "annual_revenue", "op": "gte", "value": "1e30"}, "value", "below"),
        ({"field": "annual_revenue", "op": "gte", "value": 1e30}, "value", "below"),
        ({"field": "annual_revenue", "op": "between", "value": [0, "-1E+40"]}, "value[1]", "below"),
        ({"field": "country", "op": "eq", "value": "USA"}, "value", "alpha-2"),
        ({"field": "region", "op": "eq", "value": "Mars"}, "value", "AMER, EMEA, APAC"),
        ({"field": "country", "op": "eq", "value": 1}, "value", "needs text"),
        ({"field": "postal_code", "op": "eq", "value": "x" * 17}, "value", "at most 16"),
        ({"field": "name", "op": "eq", "value": "a\x00"}, "value", "NUL"),
        ({"field": "name", "op": "prefix", "value": []}, "value", "at least one"),
        ({"op": "eq", "value": 1}, "field", "needs a field"),
    ],
)
def test_each_problem_is_reported_at_its_node(rule, path, fragment):
    found = problems(rule)
    assert any(p == path and fragment in m for p, m in found), found


def test_depth_is_capped():
    rule = {"field": "country", "op": "eq", "value": "US"}
    for _ in range(MAX_DEPTH - 1):
        rule = {"all": [rule]}
    validate(rule)
    found = problems({"any": [rule]})
    assert found[0][1] == f"Rules may nest at most {MAX_DEPTH} levels deep"
    assert found[0][0] == "any[0]" + ".all[0]" * (MAX_DEPTH - 1)


def test_size_is_capped():
    validate({"field": "postal_code", "op": "in", "value": [str(i) for i in range(MAX_VALUES)]})
    found = problems({"all": [{"field": "postal_code", "op": "in", "value": [str(i) for i in range(MAX_VALUES)]},
                              {"field": "country", "op": "eq", "value": "US"}]})
    assert found == [("all[1].value", f"A rule may hold at most {MAX_VALUES} values in total")]


def test_registry_describes_each_field():
    assert FIELDS["industry"].column == "industry_code"
    assert "gt" not in FIELDS["country"].operators and "between" in FIELDS["employees"].operators
    assert FIELDS["state"].choices == "state" and FIELDS["employees"].choices is None
    assert str(RuleError([])) == "invalid rule"
