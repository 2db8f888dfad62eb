"""The operator registry (``routing.engine.fields``): what each operator means, and its forms."""

import importlib

import pytest

from routing.engine import OPERATORS
from routing.engine.fields import POSITIVE_OPS, SCALAR, VECTOR, register_form

evaluate_module = importlib.import_module("routing.engine.evaluate")
importlib.import_module("routing.engine.masks")  # registers the vector forms


def test_negated_operators_name_their_positive_one():
    assert {name: op.negates for name, op in OPERATORS.items() if op.negates} == {"ne": "eq", "not_in": "in"}
    for op in OPERATORS.values():
        if op.negates:
            positive = OPERATORS[op.negates]
            assert (positive.kind, positive.arity, positive.negates) == (op.kind, op.arity, None)


def test_positive_operators_are_the_ones_false_on_a_missing_value():
    assert {"eq", "in", "prefix", "gt", "gte", "lt", "lte", "between"} == POSITIVE_OPS
    assert {"eq", "in", "prefix"} == evaluate_module._GEO_OPS


def test_ordering_operators_carry_their_comparison():
    compare = {name: op.compare for name, op in OPERATORS.items() if op.compare}
    assert {name: (c(1, 2), c(2, 2), c(3, 2)) for name, c in compare.items()} == {
        "gt": (False, False, True),
        "gte": (False, True, True),
        "lt": (True, False, False),
        "lte": (True, True, False),
    }


def test_scalar_and_vector_forms_are_registered_by_the_engine():
    for name, op in OPERATORS.items():
        assert callable(op.form(SCALAR)), name
        assert callable(op.form(VECTOR)), name


def test_a_second_form_for_the_same_operator_is_refused_and_nothing_changes():
    before = {name: dict(op.forms) for name, op in OPERATORS.items()}

    def impostor(*args):
        raise AssertionError("never called")

    # Named like eq's own form (as a reloaded module's would be), so only "between" is refused:
    # eq must not be overwritten on the way.
    impostor.__qualname__ = OPERATORS["eq"].form(SCALAR).__qualname__
    with pytest.raises(ValueError, match="'between' already has a scalar form"):
        register_form(SCALAR, "eq", "between")(impostor)
    with pytest.raises(ValueError, match="Unknown form kind"):
        register_form("json", "eq")
    assert {name: dict(op.forms) for name, op in OPERATORS.items()} == before


def test_a_missing_form_is_a_clear_error():
    with pytest.raises(LookupError, match="Operator 'eq' has no json form"):
        OPERATORS["eq"].form("json")
