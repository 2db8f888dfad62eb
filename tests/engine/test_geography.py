from routing.engine.geography import GeoTerm, geo_terms
from routing.engine.validate import validate


def cond(field, op, value):
    return {"field": field, "op": op, "value": value}


def test_a_state_list_is_drawn_by_its_states():
    assert geo_terms(validate(cond("state", "in", ["US-CA", "US-OR"]))) == [GeoTerm("state", False, ("US-CA", "US-OR"))]


def test_an_all_group_is_drawn_by_its_finest_geography():
    rule = validate({"all": [cond("country", "eq", "US"), cond("postal_code", "prefix", ["941"]),
                             cond("employees", "gte", 50)]})
    assert geo_terms(rule) == [GeoTerm("postal_code", True, ("941",))]


def test_an_any_group_is_the_union_of_its_alternatives():
    rule = validate({"any": [cond("state", "in", ["US-CA"]), cond("metro", "eq", "Denver")]})
    assert geo_terms(rule) == [GeoTerm("state", False, ("US-CA",)), GeoTerm("metro", False, ("Denver",))]


def test_rules_that_do_not_bound_geography_have_no_terms():
    assert geo_terms({}) is None
    assert geo_terms(validate(cond("industry", "in", ["62"]))) is None
    assert geo_terms(validate(cond("state", "not_in", ["US-CA"]))) is None
    # One alternative may match anywhere: the territory is not bounded.
    assert geo_terms(validate({"any": [cond("state", "in", ["US-CA"]), cond("employees", "gte", 5000)]})) is None
