"""CSV for the exports: rows written as text for a streamed response, and each cell guarded
against being run as a formula by a spreadsheet."""

from __future__ import annotations

from typing import Any


class Echo:
    """A file-like object whose ``write`` returns the line: ``csv.writer(Echo())`` makes rows into
    text for a streamed response."""

    def write(self, value: str) -> str:
        return value


def csv_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return "" if value is None else value
