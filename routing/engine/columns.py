"""Records as columns for set-based routing (``routing.engine.vector``): text as codes into a
table of distinct raw values (-1 when missing), numbers as scaled integers (cents for money) with
a presence mask, so comparisons are exact. ``prepare``'s idea of missing (None, "") holds here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from .evaluate import _number as engine_number
from .fields import FIELDS, MONEY, NUMBER_TYPES, fold

EMPTY = np.zeros(0, dtype=np.int64)


@dataclass
class TextColumn:
    """One text field: ``codes[i]`` indexes ``values`` (the distinct raw values), -1 missing."""

    codes: np.ndarray
    values: Sequence[str]
    _by_folded: dict[str, np.ndarray] | None = None
    _prefix: dict[int, tuple[np.ndarray, dict[str, int]]] = field(default_factory=dict)
    _groups: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def from_values(cls, raw: Iterable[Any]) -> TextColumn:
        """Codes for raw values (None and "" are missing, as ``prepare`` has it)."""
        index: dict[str, int] = {}
        codes = []
        for value in raw:
            if value is None or value == "":
                codes.append(-1)
                continue
            text = value if isinstance(value, str) else str(value)
            codes.append(index.setdefault(text, len(index)))
        return cls(np.asarray(codes, dtype=np.int64), list(index))

    def codes_of(self, folded: str) -> np.ndarray:
        """Codes of the raw values that fold to ``folded``."""
        if self._by_folded is None:
            groups: dict[str, list[int]] = {}
            for code, value in enumerate(self.values):
                groups.setdefault(fold(value), []).append(code)
            self._by_folded = {k: np.asarray(v, dtype=np.int64) for k, v in groups.items()}
        return self._by_folded.get(folded, EMPTY)

    def prefix_codes(self, length: int) -> tuple[np.ndarray, dict[str, int]]:
        """(per value code: the id of its folded first ``length`` characters, -1 when shorter;
        with one more entry, -1, for missing) and the ids by prefix."""
        found = self._prefix.get(length)
        if found is None:
            ids: dict[str, int] = {}
            table = np.empty(len(self.values) + 1, dtype=np.int64)
            for code, value in enumerate(self.values):
                folded = fold(value)
                table[code] = ids.setdefault(folded[:length], len(ids)) if len(folded) >= length else -1
            table[-1] = -1
            found = self._prefix[length] = (table, ids)
        return found

    def group(self, key: int) -> tuple[np.ndarray, np.ndarray]:
        """Rows sorted by value (``key`` 0) or by folded prefix of length ``key``, and where each
        value starts (value v at ``starts[v + 1]``)."""
        found = self._groups.get(key)
        if found is None:
            if key:
                table, ids = self.prefix_codes(key)
                per_row, size = table[self.codes], len(ids)
            else:
                per_row, size = self.codes, len(self.values)
            order = np.argsort(per_row, kind="stable")
            starts = np.zeros(size + 2, dtype=np.int64)
            np.cumsum(np.bincount(per_row + 1, minlength=size + 1), out=starts[1:])
            found = self._groups[key] = (order, starts)
        return found


@dataclass
class NumberColumn:
    """One number field as integers: ``values`` scaled by ``scale`` (100 for money: cents)."""

    values: np.ndarray
    present: np.ndarray
    scale: int = 1

    @classmethod
    def from_values(cls, raw: Iterable[Any], scale: int = 1) -> NumberColumn:
        values, present = [], []
        for value in raw:
            number = engine_number(value)
            if number is None:
                values.append(0)
                present.append(False)
                continue
            scaled = Decimal(str(number)) * scale if not isinstance(number, int) else number * scale
            if scaled != int(scaled):
                raise ValueError(f"{value!r} has more decimals than the column holds")
            values.append(int(scaled))
            present.append(True)
        return cls(np.asarray(values, dtype=np.int64), np.asarray(present, dtype=bool), scale)


@dataclass
class Columns:
    """The records to route: ids, locks (0 none) and the fields the plan's rules read."""

    ids: np.ndarray
    locks: np.ndarray
    text: dict[str, TextColumn] = field(default_factory=dict)
    numbers: dict[str, NumberColumn] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, Any]], fields: Iterable[str] | None = None) -> Columns:
        """From plain records keyed by field name, with ``id`` and ``locked_territory_id``."""
        names = list(fields) if fields is not None else list(FIELDS)
        out = cls(
            ids=np.asarray([r.get("id") or 0 for r in records], dtype=np.int64),
            locks=np.asarray([r.get("locked_territory_id") or 0 for r in records], dtype=np.int64),
        )
        for name in names:
            f = FIELDS[name]
            if f.type in NUMBER_TYPES:
                out.numbers[name] = NumberColumn.from_values((r.get(name) for r in records), money_scale(f.type))
            else:
                out.text[name] = TextColumn.from_values(r.get(name) for r in records)
        return out


def money_scale(field_type: str) -> int:
    return 100 if field_type == MONEY else 1
