"""The routable fields and the operators rules may use on them: one registry for the validator,
the evaluator, the SQL compiler and the rule builder.

Semantics shared by every consumer (the Python evaluator and ``routing.sql`` agree on them,
and tests hold them to it):

* Text comparisons ignore ASCII case and nothing else: ``a-z`` equal ``A-Z``; every other
  character, accented ones included, compares exactly (``"zürich"`` equals ``"ZüRICH"`` but not
  ``"ZÜRICH"``). ASCII folding is the only folding Python, SQLite (built-in ``UPPER``/``LIKE``)
  and PostgreSQL (``TRANSLATE``, whatever the database locale) compute identically, and the codes
  and names rules read are ASCII in practice. Record values are not trimmed; rule values are.
* Country, state and region values are codes and are normalised to upper case when a rule is
  validated; other rule values keep the case they were typed in (case does not matter to them).
* A value is *missing* when the key is absent, ``None`` or ``""``. Every positive operator
  (``eq``, ``in``, ``prefix``, ``gt``, ``gte``, ``lt``, ``lte``, ``between``) is false on a missing
  value. ``ne`` and ``not_in`` are the exact complements of ``eq`` and ``in``, so they are TRUE on
  a missing value: "country ne US" and "country eq US" together cover every record and leave no
  white space. To require a value as well, add ``{"op": "is_empty", "value": false}``.
* ``industry`` is hierarchical: ``eq``/``in``/``prefix`` match a code and everything below it
  ("industry in ['62']" matches ``622110``), and ``ne``/``not_in`` exclude the whole branch. The
  account column is ``industry_code``.
* Strings have no ordering operators (``gt``, ``between`` ...): database collations order text
  differently from Python. Postal ranges are written as prefixes.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

# --- operators ------------------------------------------------------------------------------

EQ, NE, IN, NOT_IN = "eq", "ne", "in", "not_in"
GT, GTE, LT, LTE, BETWEEN = "gt", "gte", "lt", "lte", "between"
PREFIX, IS_EMPTY = "prefix", "is_empty"

# What an operator tests (``Operator.kind``).
EQUALS = "equals"  # the value equals the rule's one value
MEMBER = "member"  # the value is one of the rule's values
STARTS = "starts"  # the value starts with one of the rule's prefixes
ORDER = "order"  # the value compares with the rule's value (``Operator.compare``)
RANGE = "range"  # the value lies between the rule's two values, both included
FLAG = "flag"  # the value is missing (rule value true) or present (false)

# The forms every operator has, one per evaluator: ``scalar`` (``routing.engine.evaluate``, one
# record's facts), ``vector`` (``routing.engine.masks``, numpy columns) and ``sql`` (registered by
# ``routing.sql``, Django ``Q``; the engine itself imports no Django).
SCALAR, VECTOR, SQL = "scalar", "vector", "sql"
FORM_KINDS = (SCALAR, VECTOR, SQL)


@dataclass(frozen=True, slots=True)
class Operator:
    """One operator: what it means, and each evaluator's form of it (``register_form``)."""

    name: str
    label: str
    # What the value looks like: "one" scalar, "many" list, "pair" [lo, hi], "prefixes" one
    # string or a list of them, "flag" true/false.
    arity: str
    kind: str
    # The operator this one is the exact complement of (true on a missing value, see above).
    negates: str | None = None
    # ORDER operators: the comparison, applied as ``compare(record value, rule value)``.
    compare: Callable[[Any, Any], Any] | None = None
    forms: dict[str, Callable[..., Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def positive(self) -> bool:
        """Only true when the field has a value, and narrows a rule (specificity, the index)."""
        return self.negates is None and self.kind != FLAG

    def form(self, kind: str) -> Callable[..., Any]:
        """This operator's ``kind`` form (one of ``FORM_KINDS``)."""
        try:
            return self.forms[kind]
        except KeyError:
            raise LookupError(f"Operator '{self.name}' has no {kind} form registered") from None


OPERATORS: Mapping[str, Operator] = MappingProxyType(
    {
        op.name: op
        for op in (
            Operator(EQ, "equals", "one", EQUALS),
            Operator(NE, "does not equal", "one", EQUALS, negates=EQ),
            Operator(IN, "is one of", "many", MEMBER),
            Operator(NOT_IN, "is none of", "many", MEMBER, negates=IN),
            Operator(GT, "greater than", "one", ORDER, compare=operator.gt),
            Operator(GTE, "at least", "one", ORDER, compare=operator.ge),
            Operator(LT, "less than", "one", ORDER, compare=operator.lt),
            Operator(LTE, "at most", "one", ORDER, compare=operator.le),
            Operator(BETWEEN, "between (inclusive)", "pair", RANGE),
            Operator(PREFIX, "starts with", "prefixes", STARTS),
            Operator(IS_EMPTY, "is empty", "flag", FLAG),
        )
    }
)

# Operators that can only be true when the field has a value, and that make a rule narrower
# (used for specificity and for the candidate index).
POSITIVE_OPS = frozenset(name for name, op in OPERATORS.items() if op.positive)

F = TypeVar("F", bound=Callable[..., Any])


def register_form(kind: str, *ops: str) -> Callable[[F], F]:
    """Decorator: the function is the ``kind`` form of ``ops``. Each evaluator looks its form up
    with ``OPERATORS[op].form(kind)``; a second, different form for the same key is an error."""
    if kind not in FORM_KINDS:
        raise ValueError(f"Unknown form kind {kind!r}")

    def register(function: F) -> F:
        for name in ops:  # every key checked before any is written
            existing = OPERATORS[name].forms.get(kind)
            if existing is not None and existing.__qualname__ != function.__qualname__:
                raise ValueError(f"Operator '{name}' already has a {kind} form: {existing.__qualname__}")
        for name in ops:
            OPERATORS[name].forms[kind] = function
        return function

    return register


# --- fields ---------------------------------------------------------------------------------

# Field types.
CODE = "code"  # country / state / region: upper-case codes
TEXT = "text"  # free text compared ASCII-case-insensitively
HIERARCHY = "hierarchy"  # industry codes: eq/in match by prefix
INTEGER = "integer"
MONEY = "money"

TEXT_TYPES = frozenset({CODE, TEXT, HIERARCHY})
NUMBER_TYPES = frozenset({INTEGER, MONEY})

_CODE_OPS = frozenset({EQ, NE, IN, NOT_IN, IS_EMPTY})
_TEXT_OPS = frozenset({EQ, NE, IN, NOT_IN, PREFIX, IS_EMPTY})
_NUMBER_OPS = frozenset({EQ, NE, IN, NOT_IN, GT, GTE, LT, LTE, BETWEEN, IS_EMPTY})

# Geographic levels for specificity, exactly as DESIGN.md ranks them (region above country).
GEO_NONE, GEO_COUNTRY, GEO_REGION, GEO_STATE, GEO_METRO, GEO_POSTAL = 0, 1, 2, 3, 4, 5
GEO_LEVEL_NAMES = {0: "none", 1: "country", 2: "region", 3: "state", 4: "metro", 5: "postal"}

MONEY_MAX_ABS = 10**14  # DecimalField(max_digits=16, decimal_places=2)
INTEGER_MAX = 2_147_483_647  # PositiveIntegerField
MAX_TEXT_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    type: str
    label: str
    operators: frozenset[str]
    # How the rule builder offers values: a choice-list name ("country", "state", "region",
    # "metro", "industry", "postal", "account") or None for free input.
    choices: str | None
    column: str  # the Account/Lead model column
    geo_level: int = GEO_NONE
    max_length: int = MAX_TEXT_LENGTH
    # Index ranking for the candidate index: lower = more selective key.
    selectivity: int = 9

    @property
    def is_text(self) -> bool:
        return self.type in TEXT_TYPES


FIELDS: Mapping[str, Field] = MappingProxyType(
    {
        f.name: f
        for f in (
            Field("country", CODE, "Country", _CODE_OPS, "country", "country", GEO_COUNTRY, 2, selectivity=6),
            Field("region", CODE, "Region", _CODE_OPS, "region", "region", GEO_REGION, 8, selectivity=7),
            Field("state", CODE, "State/Province", _CODE_OPS, "state", "state", GEO_STATE, 8, selectivity=4),
            # DESIGN ranks "Metro/City" as one level, so a city constrains as finely as a metro.
            Field("city", TEXT, "City", _TEXT_OPS, None, "city", GEO_METRO, 120, selectivity=3),
            Field("metro", TEXT, "Metro area", _TEXT_OPS, "metro", "metro", GEO_METRO, 64, selectivity=3),
            Field("postal_code", TEXT, "Postal code", _TEXT_OPS, "postal", "postal_code", GEO_POSTAL, 16,
                  selectivity=2),
            Field("industry", HIERARCHY, "Industry", _TEXT_OPS, "industry", "industry_code", max_length=16,
                  selectivity=5),
            Field("employees", INTEGER, "Employees", _NUMBER_OPS, None, "employees"),
            Field("annual_revenue", MONEY, "Annual revenue", _NUMBER_OPS, None, "annual_revenue"),
            Field("name", TEXT, "Account name", _TEXT_OPS, "account", "name", selectivity=1),
            Field("domain", TEXT, "Domain", _TEXT_OPS, None, "domain", selectivity=1),
        )
    }
)

# field name -> model column, for routing.sql and for services that load records.
COLUMNS: Mapping[str, str] = MappingProxyType({f.name: f.column for f in FIELDS.values()})

REGIONS = ("AMER", "EMEA", "APAC")
REGION_ALIASES = {"AMERICAS": "AMER", "AMERICA": "AMER"}

# --- case folding ---------------------------------------------------------------------------

_ASCII_UPPER = {c: c - 32 for c in range(ord("a"), ord("z") + 1)}


def fold(text: str) -> str:
    """ASCII-only upper case: the one case folding SQL and Python agree on (see module doc)."""
    return text.upper() if text.isascii() else text.translate(_ASCII_UPPER)
