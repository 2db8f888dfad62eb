"""Reading one value of a plan document: each reader checks a value's type and range, records a
problem at the value's JSON path when it is wrong, and returns the value (or ``None``, or the
default) so that checking goes on and every problem of the document is reported at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any


class Problems:
    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def add(self, path: str, message: str) -> None:
        self.items.append((path, message))


def read_date(value: Any, path: str, problems: Problems, *, required: bool) -> dt.date | None:
    if value is None:
        if required:
            problems.add(path, "A date is required (YYYY-MM-DD).")
        return None
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    problems.add(path, f"{value!r} is not a date (YYYY-MM-DD).")
    return None


def read_int(value: Any, path: str, problems: Problems, *, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        problems.add(path, "Must be a whole number.")
        return None
    if not low <= value <= high:
        problems.add(path, f"Must be between {low} and {high}.")
        return None
    return value


def read_text(value: Any, path: str, problems: Problems, *, max_length: int, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.add(path, "Must be text.")
        return ""
    value = value.strip()
    if required and not value:
        problems.add(path, "Required.")
    elif len(value) > max_length:
        problems.add(path, f"At most {max_length} characters.")
    return value


def read_choice(value: Any, path: str, problems: Problems, choices: list[str], default: str) -> str:
    if value is None:
        return default
    if value not in choices:
        problems.add(path, f"{value!r} is not one of {', '.join(choices)}.")
        return default
    return value


def read_decimal(value: Any, path: str, problems: Problems, *, places: int, high: Decimal) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        problems.add(path, "Must be a number written as text (\"125000.00\") or a whole number.")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        problems.add(path, f"{value!r} is not a number.")
        return None
    if not number.is_finite() or number < 0 or number > high:
        problems.add(path, f"Must be between 0 and {high}.")
        return None
    if -number.as_tuple().exponent > places:  # type: ignore[operator]
        problems.add(path, f"At most {places} decimal places.")
        return None
    return number


def unknown_keys(node: Mapping[str, Any], allowed: set[str], path: str, problems: Problems) -> None:
    for key in sorted(set(node) - allowed):
        problems.add(f"{path}.{key}" if path else key, "Unknown key.")
