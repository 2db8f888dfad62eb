"""What routing does when ``territories`` announces a change (``territories.hooks``), connected
in ``RoutingConfig.ready``: start the batch re-route, say whether territories carry ownership
history, name the accounts territories currently hold, answer the rule builder's live preview."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet

from routing.batch import reroute_job_start
from routing.builder_preview import rule_preview
from territories import hooks
from territories.models import AccountTerritory


def reroute_on_change(
    *, plan: Any, by: Any, territory_ids: Sequence[int], account_ids: Sequence[int], **_: Any
) -> list[Any]:
    jobs = []
    if territory_ids:
        jobs.append(reroute_job_start(plan=plan, scope="territories", territory_ids=list(territory_ids), by=by))
    if account_ids:
        jobs.append(reroute_job_start(plan=plan, scope="accounts", account_ids=list(account_ids), by=by))
    return jobs


def has_ownership_history(*, territory_ids: Sequence[int], **_: Any) -> bool:
    return AccountTerritory.objects.filter(territory_id__in=territory_ids).exists()


def accounts_held(*, territory_ids: Sequence[int], **_: Any) -> QuerySet[AccountTerritory, Any]:
    return AccountTerritory.objects.filter(territory_id__in=territory_ids, valid_to__isnull=True).values(
        "account_id"
    )


def connect() -> None:
    hooks.routing_changed.connect(reroute_on_change, dispatch_uid="routing.reroute_on_change")
    hooks.territory_records.connect(has_ownership_history, dispatch_uid="routing.has_ownership_history")
    hooks.territory_accounts.connect(accounts_held, dispatch_uid="routing.accounts_held")
    hooks.rule_previewed.connect(rule_preview, dispatch_uid="routing.rule_preview")
