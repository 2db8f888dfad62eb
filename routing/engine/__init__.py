"""The routing engine: pure Python, no Django (a test holds it to that).

Rules are validated (``validate``), compiled once (``compile_rule``) and evaluated against plain
record mappings (``evaluate``/``explain``); a plan of territories compiles to a ``PlanIndex``
whose candidate index routes one record (``resolve``) exactly as testing every territory would
(``resolve_brute_force``). Semantics live in the module docstrings: ``fields`` (case, missing
values, industry hierarchy), ``validate`` (schema, empty rules), ``evaluate`` (specificity),
``resolve`` (locks, tiers, ties, overlays) and ``index`` (inactive subtrees, broken rules).
"""

from .errors import PlanError, Problem, RuleError
from .evaluate import CompiledRule, Specificity, Trace, compile_rule, evaluate, explain, prepare, specificity
from .fields import COLUMNS, FIELDS, OPERATORS, Field, Operator, fold
from .index import PlanIndex
from .plan import (
    GEOGRAPHIC,
    HYBRID,
    INDUSTRY,
    NAMED_ACCOUNT,
    SIZE,
    TERRITORY_TYPES,
    CandidateTrace,
    Decision,
    PlanSpec,
    RoutingTrace,
    TerritorySpec,
)
from .resolve import decide_matched, resolve, resolve_brute_force
from .validate import MAX_DEPTH, MAX_VALUES, condition, validate

__all__ = [
    "COLUMNS",
    "FIELDS",
    "GEOGRAPHIC",
    "HYBRID",
    "INDUSTRY",
    "MAX_DEPTH",
    "MAX_VALUES",
    "NAMED_ACCOUNT",
    "OPERATORS",
    "SIZE",
    "TERRITORY_TYPES",
    "CandidateTrace",
    "PlanIndex",
    "CompiledRule",
    "Decision",
    "Field",
    "Operator",
    "PlanError",
    "PlanSpec",
    "Problem",
    "RoutingTrace",
    "RuleError",
    "Specificity",
    "TerritorySpec",
    "Trace",
    "compile_rule",
    "condition",
    "decide_matched",
    "evaluate",
    "explain",
    "fold",
    "prepare",
    "resolve",
    "resolve_brute_force",
    "specificity",
    "validate",
]
