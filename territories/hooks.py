"""What territories announce to, and ask of, the apps above them (DESIGN "Dependency direction"):
``territories`` never imports ``routing`` or ``planning`` for these; they connect receivers in
their ``AppConfig.ready``. With no receiver connected, a change simply starts no re-route and a
territory counts as carrying no records.

* ``routing_changed(plan, by, territory_ids, account_ids)``: a change in the ACTIVE plan may move
  these accounts or the accounts of these territories; ``routing`` starts the batch re-route
  and answers the jobs it started.
* ``territory_records(territory_ids)``: each receiver answers whether any of these territories
  carries records that must outlive it (ownership history in ``routing``, quotas in
  ``planning``); one ``True`` means the territory is retired instead of deleted.
* ``territory_accounts(territory_ids)``: each receiver answers a queryset of the account ids
  these territories currently hold (``routing``: the current ownership rows).
* ``plan_quotas(plan, territory_ids)``: the quota each territory of the plan (of ``territory_ids``
  unless None) carries itself, for the fiscal
  year the plan covers (``planning`` answers ``(fiscal year, {territory id: amount})``; the
  fiscal year of a date is planning's fact, ``planning.models.covering``).
* ``plan_changed(plan_id)``: something that decides where accounts go or who owns them changed in
  this plan (its territories, rules, named lists, tree or rep slots); ``planning`` marks the
  plan's simulations (and those measured against it) stale, ``analytics`` redraws the plan's map
  boundaries when its version moved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal

routing_changed = Signal()
territory_records = Signal()
territory_accounts = Signal()
plan_quotas = Signal()
plan_changed = Signal()


def answers(signal: Signal, **kwargs: Any) -> Iterable[Any]:
    """What every connected receiver answered."""
    return [response for _receiver, response in signal.send(sender=None, **kwargs)]
