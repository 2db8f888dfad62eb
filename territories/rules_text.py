"""A territory rule in plain words, for the territory page, lists and the rule builder's summary:
``{"all": [industry in 62, employees gte 500, {"any": [state in CA/OR/WA, metro eq Denver]}]}``
reads "Health care accounts with 500+ employees in California, Oregon or Washington, or in Denver".

Codes are shown by their reference names (Industry titles, GeoArea names) when known. Pass
``names`` (from ``rule_names``) to render many rules with one lookup for all of them; without
it ``rule_to_text`` does at most two small queries of its own. The text never decides anything:
the JSON rule stays the truth, this is only how it reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from routing.engine import OPERATORS
from salesos.models import GeoArea, Industry, Region
from territories.models import Territory

# kind -> code -> display name. Kinds: "industry", "country", "state", "region", "metro".
Names = Mapping[str, Mapping[str, str]]

LIST_SHOWN = 5  # values listed before "and N more"
_GEO_FIELDS = ("country", "state", "region", "metro", "city", "postal_code")
_SIZE_FIELDS = ("employees", "annual_revenue")
_SUBJECT_OPS = ("eq", "in", "prefix")



def _negated(op: Any) -> bool:
    """The operator is the complement of another (``ne``, ``not_in``: the engine's registry)."""
    known = OPERATORS.get(op) if isinstance(op, str) else None
    return known is not None and known.negates is not None

def _conditions(rule: Any) -> Iterable[Mapping[str, Any]]:
    if not isinstance(rule, Mapping):
        return
    for kind in ("all", "any"):
        if isinstance(rule.get(kind), list):
            for member in rule[kind]:
                yield from _conditions(member)
            return
    if "field" in rule:
        yield rule


def _values(condition: Mapping[str, Any]) -> list[Any]:
    value = condition.get("value")
    return list(value) if isinstance(value, list | tuple) else [value]


def rule_names(rules: Iterable[Any]) -> dict[str, dict[str, str]]:
    """Display names for every code the rules mention: one query for industries, one for
    geography (none when the rules mention neither)."""
    wanted: dict[str, set[str]] = {}
    for rule in rules:
        for condition in _conditions(rule):
            field = condition.get("field")
            if field in ("industry", "country", "state"):
                wanted.setdefault(field, set()).update(str(v) for v in _values(condition) if v is not None)
    names: dict[str, dict[str, str]] = {"region": {r.value: r.label for r in Region}}
    if wanted.get("industry"):
        industry: dict[str, str] = {}
        # NAICS first: where a code exists in several schemes the NAICS title is the usual one.
        rows = Industry.objects.filter(code__in=wanted["industry"]).order_by("-scheme").values_list("code", "title")
        for code, title in rows:
            industry[code] = title
        names["industry"] = industry
    geo_codes = wanted.get("country", set()) | wanted.get("state", set())
    if geo_codes:
        geo: dict[str, dict[str, str]] = {}
        for level, code, name in GeoArea.objects.filter(
            level__in=[GeoArea.Level.COUNTRY, GeoArea.Level.STATE], code__in={c.upper() for c in geo_codes}
        ).values_list("level", "code", "name"):
            geo.setdefault(level, {})[code] = name
        names.update(geo)
    return names


def money_short(value: Any) -> str:
    """$10M, $2.5M, $750K, $1.2B, $980."""
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    for limit, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if abs(amount) >= limit:
            scaled = (amount / limit).quantize(Decimal("0.1"))
            text = f"{scaled:f}".removesuffix(".0")
            return f"${text}{suffix}"
    return f"${amount:,f}".removesuffix(".00")


def _number(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)


def _join_or(items: list[str], word: str = "or") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _listing(items: list[str], word: str = "or") -> str:
    if len(items) > LIST_SHOWN + 1:
        shown = items[:LIST_SHOWN]
        return f"{', '.join(shown)} and {len(items) - LIST_SHOWN:,} more"
    return _join_or(items, word)


class _Renderer:
    def __init__(self, names: Names):
        self.names = names

    # -- values ---------------------------------------------------------------------------------

    def place(self, field: str, code: Any) -> str:
        code = str(code)
        if field in ("country", "state", "region"):
            name = self.names.get(field, {}).get(code.upper())
            if name:
                return name
            if field == "state" and "-" in code:
                return code.split("-", 1)[1]  # "US-CA" reads "CA" when no name is known
        return code

    def industry(self, code: Any) -> str:
        return self.names.get("industry", {}).get(str(code)) or f"NAICS {code}"

    # -- conditions -----------------------------------------------------------------------------

    def condition(self, c: Mapping[str, Any]) -> str:
        field, op, value = c.get("field"), c.get("op"), c.get("value")
        values = _values(c)
        if field in _SIZE_FIELDS:
            return self.size(field, op, value, values)
        if field == "industry":
            shown = _listing([self.industry(v) for v in values])
            if op == "is_empty":
                return "with no industry" if value else "with a known industry"
            if _negated(op):
                return f"outside {shown}"
            return f"in {shown}"
        if field == "postal_code":
            if op == "is_empty":
                return "with no postal code" if value else "with a postal code"
            shown = _listing([str(v) for v in values])
            if op == "prefix":
                return f"in postal codes starting {shown}"
            if _negated(op):
                return f"outside postal code{'s' if len(values) > 1 else ''} {shown}"
            return f"in postal code{'s' if len(values) > 1 else ''} {shown}"
        if field in _GEO_FIELDS:
            label = {"country": "country", "state": "state", "region": "region", "metro": "metro area",
                     "city": "city"}[field]
            if op == "is_empty":
                return f"with no {label}" if value else f"with a known {label}"
            shown = _listing([self.place(field, v) for v in values])
            if op == "prefix":
                return f"in a {label} starting {shown}"
            if _negated(op):
                return f"outside {shown}"
            return f"in {shown}"
        label = {"name": "name", "domain": "domain"}.get(str(field), str(field))
        if op == "is_empty":
            return f"with no {label}" if value else f"with a {label}"
        shown = _listing([f"“{v}”" for v in values])
        if op == "prefix":
            return f"whose {label} starts with {shown}"
        if _negated(op):
            return f"whose {label} is not {shown}"
        return f"whose {label} is {shown}"

    def size(self, field: str, op: Any, value: Any, values: list[Any]) -> str:
        if field == "employees":
            fmt, noun = _number, "employees"
            if op == "is_empty":
                return "with no employee count" if value else "with a known employee count"
            phrases = {
                "gte": lambda: f"{fmt(value)}+ {noun}",
                "gt": lambda: f"more than {fmt(value)} {noun}",
                "lt": lambda: f"fewer than {fmt(value)} {noun}",
                "lte": lambda: f"at most {fmt(value)} {noun}",
                "eq": lambda: f"exactly {fmt(value)} {noun}",
                "ne": lambda: f"other than {fmt(value)} {noun}",
                "between": lambda: f"{fmt(values[0])}–{fmt(values[-1])} {noun}",
                "in": lambda: f"{_listing([fmt(v) for v in values])} {noun}",
                "not_in": lambda: f"other than {_listing([fmt(v) for v in values])} {noun}",
            }
        else:
            fmt = money_short
            if op == "is_empty":
                return "with no revenue figure" if value else "with a known revenue"
            phrases = {
                "gte": lambda: f"revenue of {fmt(value)}+",
                "gt": lambda: f"revenue over {fmt(value)}",
                "lt": lambda: f"revenue under {fmt(value)}",
                "lte": lambda: f"revenue of at most {fmt(value)}",
                "eq": lambda: f"revenue of exactly {fmt(value)}",
                "ne": lambda: f"revenue other than {fmt(value)}",
                "between": lambda: f"revenue of {fmt(values[0])}–{fmt(values[-1])}",
                "in": lambda: f"revenue of {_listing([fmt(v) for v in values])}",
                "not_in": lambda: f"revenue other than {_listing([fmt(v) for v in values])}",
            }
        phrase = phrases.get(str(op))
        return f"with {phrase()}" if phrase else f"with {field} {op} {value}"

    # -- groups ---------------------------------------------------------------------------------

    def node(self, node: Any, *, nested: bool) -> str:
        if not isinstance(node, Mapping) or not node:
            return ""
        if isinstance(node.get("all"), list):
            return self.all_of(node["all"], nested=nested)
        if isinstance(node.get("any"), list):
            parts = [p for p in (self.node(m, nested=True) for m in node["any"]) if p]
            text = ", or ".join(parts)
            return f"({text})" if nested and len(parts) > 1 else text
        return self.condition(node)

    def all_of(self, members: list[Any], *, nested: bool) -> str:
        members = sorted(members, key=_order)
        # A trailing "any" group at the top level needs no parentheses: "… in CA, or in Denver".
        parts = [
            p
            for i, m in enumerate(members)
            if (p := self.node(m, nested=nested or i < len(members) - 1 or not _is_group(m, "any")))
        ]
        # "with 500+ employees" and "with revenue of $10M+" read as one "with ... and ..." phrase.
        merged: list[str] = []
        for part in parts:
            if merged and part.startswith("with ") and merged[-1].startswith("with "):
                merged[-1] = f"{merged[-1]} and {part[5:]}"
            else:
                merged.append(part)
        # A place right after a "with" phrase reads without "and": "with 500+ employees in Denver".
        text = ""
        for i, part in enumerate(merged):
            if i:
                text += " " if part.startswith("in ") and merged[i - 1].startswith("with ") else " and "
            text += part
        return f"({text})" if nested and len(merged) > 1 else text


def _is_group(node: Any, kind: str) -> bool:
    return isinstance(node, Mapping) and isinstance(node.get(kind), list)


def _order(part: Any) -> int:
    # Size phrases first, then the rest, then geography and groups: "… with 500+ employees in CA".
    if not isinstance(part, Mapping):
        return 1
    field = part.get("field")
    if field in _SIZE_FIELDS:
        return 0
    if field in _GEO_FIELDS or "any" in part or "all" in part:
        return 2
    return 1


def rule_to_text(rule: Any, names: Names | None = None, *, noun: str = "accounts") -> str:
    """The rule in plain words. ``{}`` reads "All accounts" (a child with no rule of its own covers
    what its parent covers). Unknown shapes degrade to their raw form rather than failing."""
    if not isinstance(rule, Mapping) or not rule:
        return f"All {noun}"
    if names is None:
        names = rule_names([rule])
    renderer = _Renderer(names)
    members: list[Any] = list(rule["all"]) if isinstance(rule.get("all"), list) else [rule]
    # One positive industry condition at the top names the accounts: "Health care accounts".
    subject = noun.capitalize()
    industry = [
        m for m in members
        if isinstance(m, Mapping) and m.get("field") == "industry" and m.get("op") in _SUBJECT_OPS
    ]
    if len(industry) == 1:
        members.remove(industry[0])
        subject = f"{_listing([renderer.industry(v) for v in _values(industry[0])])} {noun}"
    tail = renderer.all_of(members, nested=False)
    return f"{subject} {tail}" if tail else subject


def territory_rule_text(*, rule: Any, territory_type: str, named_count: int, names: Names | None = None) -> str:
    """A territory's rule line. A named-account territory matches by its list alone, whatever
    its rule says (DESIGN "Readings"), so its line counts the list instead of reading the rule
    ("All accounts" would claim the opposite)."""
    if territory_type == Territory.Type.NAMED_ACCOUNT:
        return f"Named accounts: {named_count:,} listed"
    return rule_to_text(rule, names)
