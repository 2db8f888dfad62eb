"""Worker connections for large PostgreSQL runs: reading and writing side by side.

The tests lower ``PARALLEL_MIN`` here to take these paths on a small plan; ``read`` and ``write``
look it up at run time.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

PARALLEL_MIN = 200_000  # accounts from which reading and writing use worker connections
WORKERS = 2  # worker connections (the database does the work: one core each)


def parallel(n: int) -> bool:
    """Whether to spread the work over worker connections: PostgreSQL, a large run, and nothing
    uncommitted on ours (a worker would not see it; tests run inside a transaction)."""
    return connection.vendor == "postgresql" and n >= PARALLEL_MIN and not connection.in_atomic_block


def worker_connection() -> Any:
    return connection.get_new_connection(connection.get_connection_params())
