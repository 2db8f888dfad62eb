"""Sets of ids in a query: one array parameter on PostgreSQL, short lists elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection
from django.db.models.expressions import RawSQL


def id_values(ids: Sequence[int]) -> Iterable[Any]:
    """The ids as values for an ``__in`` lookup: on PostgreSQL one array parameter (``unnest``),
    sent as the array's text (the database parses it once, far faster than adapting each id);
    elsewhere lists short enough for SQLite's parameter limit."""
    if connection.vendor == "postgresql":
        if len(ids):
            yield RawSQL("SELECT unnest(%s::bigint[])", (array_text(ids),))
        return
    for start in range(0, len(ids), 5_000):
        yield list(ids[start : start + 5_000])


def array_text(ids: Sequence[int | None]) -> str:
    """PostgreSQL's text form of an array of ids (``{1,NULL,3}``), for a ``%s::bigint[]``
    parameter."""
    return "{" + ",".join("NULL" if i is None else str(int(i)) for i in ids) + "}"
