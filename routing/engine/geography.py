"""Which places a rule names, for drawing a territory on a map.

``geo_terms(rule)`` reads a normalised rule and answers the geographic conditions whose union is
the area the rule can match, or ``None`` when the rule does not bound geography (a record
anywhere may match, e.g. an industry rule, or an ``any`` group with a non-geographic
alternative). Only positive conditions on geographic fields count (``eq``/``in``/``prefix``),
the same ones that give a rule its geographic specificity (``evaluate.specificity``):

* an ``all`` group is bounded by its finest geographic member (``state in [CA]`` inside
  ``country eq US`` draws California), so it takes the terms of its members at the finest level;
* an ``any`` group is the union of its alternatives, bounded only if every alternative is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .fields import EQUALS, FIELDS, MEMBER, OPERATORS, STARTS


@dataclass(frozen=True, slots=True)
class GeoTerm:
    """One geographic condition: ``field`` (country, region, state, city, metro, postal_code),
    ``prefix`` (whether values are prefixes) and its values as written in the rule."""

    field: str
    prefix: bool
    values: tuple[str, ...]

    @property
    def level(self) -> int:
        return FIELDS[self.field].geo_level


def _values(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list | tuple) else [value]
    return tuple(str(v) for v in items if v not in (None, ""))


def geo_terms(rule: Mapping[str, Any] | None) -> list[GeoTerm] | None:
    """The geographic terms whose union draws ``rule`` (a validated rule), or ``None``."""
    if not rule:
        return None
    if "all" in rule:
        bounded = [terms for member in rule["all"] if (terms := geo_terms(member))]
        if not bounded:
            return None
        finest = max(max(t.level for t in terms) for terms in bounded)
        # Every member at the finest level must hold; drawing their union over-draws an
        # intersection at worst, which is the safe side for a map.
        return [t for terms in bounded if max(x.level for x in terms) == finest for t in terms]
    if "any" in rule:
        found: list[GeoTerm] = []
        for member in rule["any"]:
            terms = geo_terms(member)
            if terms is None:
                return None
            found.extend(terms)
        return found or None
    field = FIELDS.get(rule.get("field", ""))
    op = OPERATORS.get(rule.get("op", ""))
    if field is None or op is None or not field.geo_level or not op.positive:
        return None
    if op.kind not in (EQUALS, MEMBER, STARTS):
        return None
    values = _values(rule.get("value"))
    return [GeoTerm(field.name, op.kind == STARTS, values)] if values else None
