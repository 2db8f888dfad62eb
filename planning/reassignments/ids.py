"""Sets of ids in a query: one array parameter on PostgreSQL, short lists elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL


def id_values(ids: Sequence[int]) -> Iterable[Any]:
    """The ids as values for an ``__in`` lookup: on PostgreSQL one array parameter (``unnest``),
    parsed once however long; elsewhere lists short enough for SQLite's parameter limit."""
    if connection.vendor == "postgresql":
        if len(ids):
            yield RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))
        return
    for start in range(0, len(ids), 5_000):
        yield list(ids[start : start + 5_000])
