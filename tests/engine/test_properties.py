"""Properties that hold for every rule, record and plan hypothesis can think of."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.engine import PlanIndex, compile_rule, explain, resolve, resolve_brute_force, validate

from .strategies import plans, records, rules

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(rule=rules())
def test_validate_is_idempotent_and_does_not_mutate(rule):
    import copy

    before = copy.deepcopy(rule)
    normalised = validate(rule)
    assert rule == before
    assert validate(normalised) == normalised


@SETTINGS
@given(rule=rules(), record=records())
def test_compiled_evaluation_agrees_with_the_trace(rule, record):
    compiled = compile_rule(rule)
    trace = explain(compiled, record)
    assert compiled.matches(record) == trace.matched
    assert isinstance(trace.to_dict(), dict)


@SETTINGS
@given(rule=rules(), record=records())
def test_ne_and_not_in_are_exact_complements(rule, record):
    # Flip every eq<->ne and in<->not_in leaf on a single condition: the results are opposite.
    rule = validate(rule)
    if "field" not in rule or rule["op"] not in ("eq", "ne", "in", "not_in"):
        return
    flipped = {**rule, "op": {"eq": "ne", "ne": "eq", "in": "not_in", "not_in": "in"}[rule["op"]]}
    assert compile_rule(rule).matches(record) != compile_rule(flipped).matches(record)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(plan=plans(), data=st.data())
def test_indexed_resolution_equals_brute_force(plan, data):
    compiled = PlanIndex.build(plan)
    ids = tuple(t.id for t in plan.territories) + (999,)
    for _ in range(5):
        record = data.draw(records(lock_ids=ids))
        assert resolve(compiled, record) == resolve_brute_force(compiled, record)
