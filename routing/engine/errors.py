"""Errors the engine raises. Both carry data a page or an API can show as it is."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a rule: where (``all[2].any[0].value``; ``""`` is the rule itself)
    and what, in words an admin understands."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path or '(rule)'}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class RuleError(ValueError):
    """A rule failed validation. ``problems`` lists every fault found, each with its path."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid rule")

    def to_list(self) -> list[dict[str, str]]:
        return [p.to_dict() for p in self.problems]


class PlanError(ValueError):
    """A plan cannot be compiled: a territory names a parent outside the plan, or the tree loops."""
