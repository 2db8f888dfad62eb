"""Resolution of one record: locks, inheritance, tiers, priority, specificity, ties, overlays,
named accounts and the unassigned queue."""

import json

import pytest

from routing.engine import PlanError, PlanIndex, PlanSpec, TerritorySpec, resolve, resolve_brute_force

US = {"field": "country", "op": "eq", "value": "US"}
CA_STATE = {"field": "state", "op": "eq", "value": "US-CA"}
SF_ZIP = {"field": "postal_code", "op": "prefix", "value": "941"}
HEALTH = {"field": "industry", "op": "in", "value": ["62"]}
BIG = {"field": "employees", "op": "gte", "value": 500}

SF_ACCOUNT = {"id": 7, "country": "US", "state": "US-CA", "postal_code": "94105", "industry": "622110",
              "employees": 800}


def t(id, code=None, **kw):  # noqa: A002 - mirrors TerritorySpec
    return TerritorySpec(id=id, code=code or f"T{id}", **kw)


def plan(*territories):
    return PlanIndex.build(PlanSpec(version=1, territories=territories))


def route(compiled, record):
    decision = resolve(compiled, record)
    assert decision == resolve_brute_force(compiled, record)
    json.dumps(decision.to_dict())
    return decision


def outcomes(decision):
    return {c.code: c.outcome for c in decision.trace.candidates}


def test_tiers_named_then_hybrid_then_single_dimension():
    territories = [
        t(1, "GEO", rule=US, priority=9),
        t(2, "HYB", type="hybrid", rule={"all": [US, HEALTH]}, priority=5),
        t(3, "NAM", type="named_account", named_account_ids=frozenset({7}), priority=0),
    ]
    d = route(plan(*territories), SF_ACCOUNT)
    assert (d.territory_id, d.source, d.conflict) == (3, "named", False)
    assert outcomes(d) == {"NAM": "won", "HYB": "lost", "GEO": "lost"}
    assert "tier hybrid comes after named" in {c.code: c.reason for c in d.trace.candidates}["HYB"]
    d = route(plan(*territories[:2]), SF_ACCOUNT)
    assert (d.territory_id, d.source) == (2, "rule")
    d = route(plan(territories[0], t(4, "IND", type="industry", rule=HEALTH), t(5, "SIZ", type="size", rule=BIG)),
              SF_ACCOUNT)
    assert d.territory_id == 1  # one tier for geo, industry and size: priority 9 wins


def test_priority_then_specificity_then_condition_count():
    d = route(plan(t(1, "A", rule=US, priority=2), t(2, "B", rule=SF_ZIP, priority=1)), SF_ACCOUNT)
    assert d.territory_id == 1 and "priority 1 is below A's 2" in d.trace.candidates[1].reason
    d = route(plan(t(1, "A", rule=US), t(2, "B", rule=SF_ZIP), t(3, "C", rule=CA_STATE)), SF_ACCOUNT)
    assert d.territory_id == 2 and not d.conflict
    assert [c.code for c in d.trace.candidates] == ["B", "C", "A"]
    assert "less specific" in d.trace.candidates[1].reason
    d = route(plan(t(1, "A", rule={"all": [US, HEALTH]}), t(2, "B", rule={"all": [US, HEALTH, BIG]})), SF_ACCOUNT)
    assert d.territory_id == 2 and not d.conflict


def test_tie_goes_to_lowest_code_and_is_a_conflict():
    d = route(plan(t(1, "WEST-2", rule=CA_STATE), t(2, "WEST-1", rule={"field": "state", "op": "in",
                                                                        "value": ["US-CA", "US-OR"]})), SF_ACCOUNT)
    assert (d.territory_id, d.conflict) == (2, True)
    assert "conflict" in d.trace.candidates[0].reason and "conflict" in d.trace.candidates[1].reason


def test_child_inherits_ancestors_and_deepest_match_wins():
    compiled = plan(
        t(1, "AMER", rule={"field": "region", "op": "eq", "value": "AMER"}),
        t(2, "US", parent_id=1, rule=US),
        t(3, "US-WEST", parent_id=2, rule={"field": "state", "op": "in", "value": ["US-CA", "US-OR"]}),
        t(4, "US-WEST-HC", parent_id=3, rule={}),  # inherits every ancestor's conditions
        t(5, "US-EAST", parent_id=2, rule={"field": "state", "op": "eq", "value": "US-NY"}),
    )
    d = route(compiled, {**SF_ACCOUNT, "region": "AMER"})
    assert d.territory_id == 4 and d.source == "rule"
    assert outcomes(d) == {"US-WEST-HC": "won", "US-WEST": "rollup", "US": "rollup", "AMER": "rollup"}
    # The empty child inherits: without the region its ancestors need, nothing matches.
    assert route(compiled, SF_ACCOUNT).territory_id is None
    # A parent whose own rule matches while no child does is itself the candidate.
    d = route(compiled, {"region": "AMER", "country": "US", "state": "US-TX"})
    assert d.territory_id == 2 and outcomes(d) == {"US": "won", "AMER": "rollup"}
    # Specificity includes the ancestors' conditions.
    assert d.trace.candidates[0].specificity.conditions == 2


def test_inherited_specificity_competes_across_branches():
    compiled = plan(
        t(1, "US", rule=US), t(2, "CA", parent_id=1, rule=CA_STATE),
        t(3, "ALL-HC", rule={"all": [US, HEALTH, BIG]}),  # 3 conditions but country level only
    )
    assert route(compiled, SF_ACCOUNT).territory_id == 2


def test_overlays_add_credit_and_never_compete():
    compiled = plan(
        t(1, "US", rule=US),
        t(2, "SE-WEST", rule=CA_STATE, is_overlay=True, credit_percent=20, priority=99),
        t(3, "SE-HC", type="industry", rule=HEALTH, is_overlay=True, credit_percent=10),
        t(4, "SE-HC-SF", parent_id=3, rule=SF_ZIP, is_overlay=True, credit_percent=15),
        t(5, "US-OVL-CHILD", parent_id=1, rule=CA_STATE, is_overlay=True, credit_percent=5),
    )
    d = route(compiled, SF_ACCOUNT)
    assert d.territory_id == 1  # the overlay child does not make US a mere rollup
    assert d.overlays == ((4, 15), (2, 20), (5, 5))  # ordered by code
    assert outcomes(d) == {"US": "won", "SE-WEST": "overlay", "SE-HC-SF": "overlay", "US-OVL-CHILD": "overlay",
                           "SE-HC": "rollup"}
    d = route(compiled, {"state": "US-CA"})
    assert (d.territory_id, d.source, d.overlays) == (None, None, ((2, 20),))


def test_lock_wins_even_when_rules_do_not_match():
    compiled = plan(t(1, "US", rule=US), t(2, "DE", rule={"field": "country", "op": "eq", "value": "DE"}),
                    t(3, "OVL", rule=US, is_overlay=True, credit_percent=30),
                    t(4, "OFF", rule=US, status="inactive"))
    d = route(compiled, {**SF_ACCOUNT, "locked_territory_id": 2})
    assert (d.territory_id, d.source, d.conflict, d.overlays) == (2, "lock", False, ((3, 30),))
    assert outcomes(d) == {"DE": "won", "US": "lost", "OVL": "overlay"}
    assert "Locked to DE" in d.trace.notes[0]
    d = route(compiled, {**SF_ACCOUNT, "locked_territory_id": 1})
    assert (d.territory_id, d.source) == (1, "lock")


@pytest.mark.parametrize(("lock", "note"), [(999, "not in plan"), (4, "not active"), (3, "overlay")])
def test_lock_on_unknown_inactive_or_overlay_territory_is_ignored(lock, note):
    compiled = plan(t(1, "US", rule=US), t(3, "OVL", rule=US, is_overlay=True), t(4, "OFF", rule=US, status="draft"))
    d = route(compiled, {**SF_ACCOUNT, "locked_territory_id": lock})
    assert (d.territory_id, d.source) == (1, "rule")
    assert note in d.trace.notes[0]


def test_named_accounts_match_by_list_alone():
    compiled = plan(
        t(1, "DE", rule={"field": "country", "op": "eq", "value": "DE"}),
        t(2, "STRATEGIC", parent_id=1, type="named_account", named_account_ids=frozenset({7, 8}),
          rule={"field": "country", "op": "eq", "value": "FR"}),  # neither the rule nor the parent's count
        t(3, "STRAT-US", parent_id=2, rule=US),  # children of a named territory need the list AND their rule
    )
    d = route(compiled, SF_ACCOUNT)
    assert (d.territory_id, d.source) == (3, "rule")
    assert outcomes(d) == {"STRAT-US": "won", "STRATEGIC": "rollup"}
    d = route(compiled, {"id": 8, "country": "BR"})
    assert (d.territory_id, d.source) == (2, "named")
    assert route(compiled, {"id": 9, "country": "US"}).territory_id is None
    assert route(compiled, {"country": "US"}).territory_id is None  # no id, no named match


def test_unassigned_when_nothing_matches():
    d = route(plan(t(1, "US", rule=US)), {"country": "DE"})
    assert (d.territory_id, d.source, d.overlays, d.conflict, d.unassigned) == (None, None, (), False, True)
    assert d.trace.notes == ("No territory matches: unassigned",)
    assert route(plan(), {}).unassigned


def test_inactive_and_draft_territories_and_their_subtrees_are_ignored():
    compiled = plan(
        t(1, "US", rule=US, status="inactive"), t(2, "CA", parent_id=1, rule=CA_STATE),
        t(3, "US-DRAFT", rule=SF_ZIP, status="draft"), t(4, "ANY", rule={}),
    )
    assert route(compiled, SF_ACCOUNT).territory_id == 4
    assert compiled.routable_ids == (4,)


def test_a_root_with_an_empty_rule_catches_everything():
    assert route(plan(t(1, "ALL", rule={})), {}).territory_id == 1


def test_broken_stored_rule_matches_nothing_and_is_reported():
    compiled = plan(t(1, "BAD", rule={"field": "nope", "op": "eq", "value": 1}), t(2, "KID", parent_id=1, rule={}))
    assert route(compiled, SF_ACCOUNT).unassigned
    assert compiled.problems == (("BAD", "field: Unknown field 'nope'"),)


def test_broken_trees_are_refused():
    with pytest.raises(PlanError, match="loops"):
        plan(t(1, parent_id=2), t(2, parent_id=1))
    with pytest.raises(PlanError, match="outside the plan"):
        plan(t(1, parent_id=5))
    with pytest.raises(PlanError, match="twice"):
        plan(t(1), t(1))


def test_index_checks_only_territories_that_can_match():
    compiled = plan(
        t(1, "US", rule=US), t(2, "DE", rule={"field": "country", "op": "eq", "value": "DE"}),
        t(3, "DE-BIG", parent_id=2, rule=BIG),  # guarded by its parent's country
        t(4, "ANY-ZIP", rule={"any": [SF_ZIP, {"field": "metro", "op": "eq", "value": "Denver"}]}),
        t(5, "BIG", rule=BIG),  # no discrete requirement: always checked
        t(6, "NAMED", type="named_account", named_account_ids=frozenset({7})),
    )
    from routing.engine import prepare

    assert compiled.always_checked == (5,)
    assert compiled.candidate_ids(prepare(SF_ACCOUNT), 7) == {1, 4, 5, 6}
    assert compiled.candidate_ids(prepare({"country": "de", "metro": "DENVER"}), None) == {2, 3, 4, 5}


def test_resolve_accepts_a_plan_spec_and_the_plan_offers_resolve():
    spec = PlanSpec(version="v2", territories=(t(1, "US", rule=US),))
    assert resolve(spec, SF_ACCOUNT).territory_id == 1
    compiled = PlanIndex.build(spec)
    assert resolve(compiled, SF_ACCOUNT).trace.plan_version == "v2"
