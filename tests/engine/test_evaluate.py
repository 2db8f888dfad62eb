"""Every operator, its edge cases, the trace and specificity."""

import json
from decimal import Decimal

import pytest

from routing.engine import Specificity, compile_rule, evaluate, explain, prepare, specificity, validate


def check(field, op, value, actual):
    return evaluate({"field": field, "op": op, "value": value}, {field: actual})


@pytest.mark.parametrize(
    ("op", "value", "actual", "expected"),
    [
        ("eq", "Denver", "DENVER", True),
        ("eq", "Denver", "Denver ", False),  # record values are not trimmed
        ("eq", "Zürich", "ZüRICH", True),  # ASCII letters fold...
        ("eq", "Zürich", "ZÜRICH", False),  # ...accented ones do not
        ("eq", "Denver", None, False),
        ("ne", "Denver", "Boulder", True),
        ("ne", "Denver", "denver", False),
        ("ne", "Denver", None, True),  # the complement of eq: true on missing
        ("ne", "Denver", "", True),
        ("in", ["Denver", "Boulder"], "boulder", True),
        ("in", ["Denver"], None, False),
        ("not_in", ["Denver"], "Boulder", True),
        ("not_in", ["Denver"], "", True),
        ("not_in", ["Denver"], "DENVER", False),
        ("prefix", "Den", "denver", True),
        ("prefix", ["X", "Bo"], "Boulder", True),
        ("prefix", "Den", None, False),
        ("is_empty", True, None, True),
        ("is_empty", True, "", True),
        ("is_empty", True, " ", False),
        ("is_empty", False, "Denver", True),
        ("is_empty", False, "", False),
    ],
)
def test_text_operators(op, value, actual, expected):
    assert check("metro", op, value, actual) is expected


@pytest.mark.parametrize(
    ("op", "value", "actual", "expected"),
    [
        ("eq", 500, 500, True),
        ("eq", "500", Decimal("500"), True),
        ("eq", 500, None, False),
        ("ne", 500, None, True),
        ("ne", 500, 500, False),
        ("in", [1, 500], 500.0, True),
        ("not_in", [1, 500], None, True),
        ("not_in", [1, 500], 2, True),
        ("gt", 500, 501, True),
        ("gt", 500, 500, False),
        ("gt", 500, None, False),
        ("gte", 500, 500, True),
        ("lt", 500, 499, True),
        ("lt", 500, None, False),  # a missing size is not "small"
        ("lte", 500, 500, True),
        ("lte", 500, 501, False),
        ("between", [10, 20], 10, True),  # inclusive at both ends
        ("between", [10, 20], 20, True),
        ("between", [10, 20], 21, False),
        ("between", [10, 20], 9, False),
        ("between", [10, 20], None, False),
        ("between", [10, 10], 10, True),
        ("gte", 500, "600", True),  # numbers given as text in the record are read as numbers
        ("gte", 500, "many", False),  # unreadable: treated as missing
        ("is_empty", True, None, True),
        ("is_empty", True, "", True),
        ("is_empty", True, 0, False),
        ("is_empty", False, 0, True),
    ],
)
def test_number_operators(op, value, actual, expected):
    assert check("employees", op, value, actual) is expected


def test_money_compares_exactly():
    assert check("annual_revenue", "gt", "1000000", Decimal("1000000.01"))
    assert not check("annual_revenue", "gt", 1000000, Decimal("1000000.00"))
    assert check("annual_revenue", "between", [0.1, "0.2"], Decimal("0.1"))
    assert check("annual_revenue", "eq", 0.1, Decimal("0.10"))
    assert not check("annual_revenue", "gt", 0, float("nan"))


@pytest.mark.parametrize(
    ("op", "value", "actual", "expected"),
    [
        ("in", ["62"], "622110", True),
        ("in", ["62"], "62", True),
        ("in", ["622"], "62", False),  # a broader account code is not inside a narrower rule
        ("eq", "62", "622110", True),
        ("eq", "62", "52", False),
        ("prefix", ["5", "62"], "521", True),
        ("ne", "62", "622110", False),  # excludes the whole branch
        ("ne", "62", "52", True),
        ("ne", "62", None, True),
        ("not_in", ["62", "52"], "521", False),
        ("not_in", ["62"], "", True),
        ("in", ["a1"], "A12", True),
    ],
)
def test_industry_is_hierarchical(op, value, actual, expected):
    assert check("industry", op, value, actual) is expected


def test_postal_prefix_list_and_codes():
    assert check("postal_code", "prefix", ["941", "SW1A"], "sw1a 1aa")
    assert not check("postal_code", "prefix", ["941"], "94")
    assert check("postal_code", "eq", 94105, "94105")
    assert check("country", "eq", "us", "US") and check("country", "in", ["US"], "us")
    assert check("postal_code", "eq", "94105", 94105)  # a number in the record reads as text


def test_groups_and_empty_rule():
    a = {"field": "country", "op": "eq", "value": "US"}
    b = {"field": "employees", "op": "gte", "value": 500}
    record = {"country": "US", "employees": 10}
    assert evaluate({}, record) and evaluate({}, {})
    assert evaluate({"any": [a, b]}, record)
    assert not evaluate({"all": [a, b]}, record)
    assert evaluate({"all": [a, {"any": [b, {"all": [a]}]}]}, record)
    many = [{"field": "employees", "op": "gt", "value": i} for i in range(4)]
    assert evaluate({"all": many}, {"employees": 5}) and not evaluate({"all": many}, {"employees": 3})
    assert evaluate({"any": many}, {"employees": 1}) and not evaluate({"any": many}, {"employees": 0})


def test_explain_reports_each_node_with_the_actual_value():
    rule = {"all": [{"field": "industry", "op": "in", "value": ["62"]},
                    {"any": [{"field": "state", "op": "in", "value": ["US-CA"]},
                             {"field": "metro", "op": "eq", "value": "Denver"}]}]}
    trace = explain(rule, {"industry": "622110", "metro": "denver", "annual_revenue": Decimal("5.5")})
    assert trace.matched and trace.kind == "all"
    data = json.loads(json.dumps(trace.to_dict()))
    assert data["children"][0] == {"path": "all[0]", "kind": "condition", "matched": True, "field": "industry",
                                   "op": "in", "value": ["62"], "actual": "622110"}
    state, metro = data["children"][1]["children"]
    assert (state["path"], state["matched"], state["actual"]) == ("all[1].any[0]", False, None)
    assert (metro["matched"], metro["actual"]) == (True, "denver")
    money = explain({"field": "annual_revenue", "op": "gt", "value": 1.5}, {"annual_revenue": Decimal("5.5")})
    assert money.to_dict()["actual"] == "5.5" and explain({}, {}).to_dict() == {"path": "", "kind": "empty",
                                                                                "matched": True}


def test_compiled_rule_is_reusable_and_fast_path_uses_facts():
    compiled = compile_rule({"field": "country", "op": "eq", "value": "us"})
    assert compile_rule(compiled) is compiled
    assert compiled.rule == {"field": "country", "op": "eq", "value": "US"}
    facts = prepare({"country": "us", "ignored": 1})
    assert compiled.matches_facts(facts) and "ignored" not in facts


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({}, Specificity(0, 0)),
        ({"field": "country", "op": "eq", "value": "US"}, Specificity(1, 1)),
        ({"field": "region", "op": "eq", "value": "EMEA"}, Specificity(2, 1)),
        ({"field": "state", "op": "in", "value": ["US-CA"]}, Specificity(3, 1)),
        ({"field": "metro", "op": "eq", "value": "Denver"}, Specificity(4, 1)),
        ({"field": "city", "op": "eq", "value": "Denver"}, Specificity(4, 1)),
        ({"field": "postal_code", "op": "prefix", "value": "94"}, Specificity(5, 1)),
        ({"field": "country", "op": "ne", "value": "US"}, Specificity(0, 1)),  # exclusions narrow no level
        ({"field": "employees", "op": "gte", "value": 5}, Specificity(0, 1)),
        ({"all": [{"field": "country", "op": "eq", "value": "US"},
                  {"field": "postal_code", "op": "prefix", "value": "94"},
                  {"field": "employees", "op": "gte", "value": 5}]}, Specificity(5, 3)),
        # any: the coarsest alternative, and no condition must hold
        ({"any": [{"field": "state", "op": "eq", "value": "US-CA"},
                  {"field": "metro", "op": "eq", "value": "Denver"}]}, Specificity(3, 0)),
        ({"any": [{"field": "state", "op": "eq", "value": "US-CA"},
                  {"field": "employees", "op": "gt", "value": 5}]}, Specificity(0, 0)),
        ({"all": [{"field": "country", "op": "eq", "value": "US"},
                  {"any": [{"field": "state", "op": "eq", "value": "US-CA"}]}]}, Specificity(3, 2)),
    ],
)
def test_specificity(rule, expected):
    assert specificity(validate(rule)) == expected
    assert compile_rule(rule).specificity == expected
