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
* ``rule_edit_proposed(territory, rule, priority, by)``: someone saves a rule (or priority) edit
  of an ACTIVE territory of the ACTIVE plan in the editor. A receiver may take the edit over
  (``planning``: a manager's or director's edit that would move accounts, or an admin's when the
  organisation says so, becomes a draft reassignment proposal) and answers a ``RuleEditTaken``;
  the editor then saves the other fields but not the rule and priority. ``None``: applied as usual.
* ``rule_previewed(user, plan, rule, parent, territory, territory_type, named_ids, data)``: the rule
  builder's live preview of a territory being edited (``routing``: what the rule covers among the
  accounts ``user`` sees, and what the save would move, from a dry run of its re-route). With no
  receiver the preview is not ready.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal


@dataclass(frozen=True)
class RuleEditTaken:
    """A rule edit a receiver took over: where to go (the proposal's page) and what to tell, or
    the reasons it was refused (``errors``: nothing is saved)."""

    url: str = ""
    message: str = ""
    errors: tuple[str, ...] = ()


routing_changed = Signal()
territory_records = Signal()
territory_accounts = Signal()
plan_quotas = Signal()
plan_changed = Signal()
rule_edit_proposed = Signal()
rule_previewed = Signal()


def answers(signal: Signal, **kwargs: Any) -> Iterable[Any]:
    """What every connected receiver answered."""
    return [response for _receiver, response in signal.send(sender=None, **kwargs)]


def rule_edit_taken(**kwargs: Any) -> RuleEditTaken | None:
    """The first receiver's answer that took a rule edit over (``rule_edit_proposed``), or None."""
    return next((a for a in answers(rule_edit_proposed, **kwargs) if isinstance(a, RuleEditTaken)), None)


def rule_preview(**kwargs: Any) -> dict[str, Any]:
    """The first receiver's answer to ``rule_previewed``; not ready when nobody answers."""
    return next((a for a in answers(rule_previewed, **kwargs) if isinstance(a, dict)), {"ready": False})
