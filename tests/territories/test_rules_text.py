"""Rules in plain words."""

import pytest

from salesos.models import GeoArea, Industry
from territories.rules_text import money_short, rule_names, rule_to_text

HYBRID = {
    "all": [
        {"field": "industry", "op": "in", "value": ["62"]},
        {"field": "employees", "op": "gte", "value": 500},
        {"any": [
            {"field": "state", "op": "in", "value": ["US-CA", "US-OR", "US-WA"]},
            {"field": "metro", "op": "eq", "value": "Denver"},
        ]},
    ]
}


def test_the_seed_example_reads_as_in_the_spec_without_a_database():
    names = {"industry": {"62": "Healthcare"}}
    assert rule_to_text(HYBRID, names) == "Healthcare accounts with 500+ employees in CA, OR or WA, or in Denver"


@pytest.mark.django_db
def test_reference_names_come_from_one_lookup(django_assert_max_num_queries):
    Industry.objects.create(scheme="naics", code="62", title="Health care")
    for code, name in (("US-CA", "California"), ("US-OR", "Oregon"), ("US-WA", "Washington")):
        GeoArea.objects.create(level="state", code=code, name=name)
    with django_assert_max_num_queries(2):
        text = rule_to_text(HYBRID)
    assert text == "Health care accounts with 500+ employees in California, Oregon or Washington, or in Denver"
    with django_assert_max_num_queries(2):
        names = rule_names([HYBRID, {"field": "country", "op": "eq", "value": "US"}] * 50)
    with django_assert_max_num_queries(0):
        rule_to_text(HYBRID, names)


@pytest.mark.parametrize(
    ("rule", "text"),
    [
        ({}, "All accounts"),
        ({"field": "country", "op": "eq", "value": "US"}, "Accounts in US"),
        ({"field": "region", "op": "in", "value": ["EMEA", "APAC"]}, "Accounts in EMEA or APAC"),
        ({"field": "annual_revenue", "op": "gt", "value": 10_000_000}, "Accounts with revenue over $10M"),
        ({"all": [{"field": "employees", "op": "between", "value": [100, 500]},
                  {"field": "annual_revenue", "op": "gte", "value": 2_500_000}]},
         "Accounts with 100–500 employees and revenue of $2.5M+"),
        ({"field": "postal_code", "op": "prefix", "value": [f"9{i:02d}" for i in range(200)]},
         "Accounts in postal codes starting 900, 901, 902, 903, 904 and 195 more"),
        ({"field": "state", "op": "not_in", "value": ["US-CA"]}, "Accounts outside CA"),
        ({"field": "industry", "op": "not_in", "value": ["62"]}, "Accounts outside NAICS 62"),
        ({"field": "name", "op": "prefix", "value": "Acme"}, "Accounts whose name starts with “Acme”"),
        ({"any": [{"all": [{"field": "state", "op": "eq", "value": "US-CA"},
                           {"field": "employees", "op": "lt", "value": 100}]},
                  {"field": "metro", "op": "eq", "value": "Denver"}]},
         "Accounts (with fewer than 100 employees in CA), or in Denver"),
    ],
)
def test_phrases(rule, text):
    assert rule_to_text(rule, {}) == text


def test_money_short():
    assert [money_short(v) for v in (980, 750_000, 2_500_000, 1_200_000_000, "10000000")] == [
        "$980", "$750K", "$2.5M", "$1.2B", "$10M"]


def test_named_account_territory_line_counts_the_list_not_the_rule():
    from territories.rules_text import territory_rule_text

    assert territory_rule_text(rule={}, territory_type="named_account", named_count=1234) == (
        "Named accounts: 1,234 listed")
    assert territory_rule_text(rule={}, territory_type="geographic", named_count=0) == "All accounts"
