"""Two approvers deciding at the same moment, each on their own database connection (PostgreSQL
row-lock tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from django.db import connections

from planning.approvals import services as approval_services


def widen_the_round_window(monkeypatch, seconds: float = 0.2) -> None:
    """Sleep between reading an approval round and writing the decision: without the row locks,
    both approvers would read the other's task as still waiting."""
    real = approval_services._locked_round

    def slow(where):
        tasks = real(where)
        time.sleep(seconds)
        return tasks

    monkeypatch.setattr(approval_services, "_locked_round", slow)


def at_the_same_moment(users: Iterable, act: Callable[[object], object]) -> dict[str, object]:
    """Run ``act(user)`` for each user in its own thread, released together; the answer (or the
    exception raised) per username."""
    users = list(users)
    barrier = threading.Barrier(len(users))
    outcomes: dict[str, object] = {}

    def run(user) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[user.username] = act(user)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcomes[user.username] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
