"""What planning answers when ``territories`` asks (``territories.hooks``), connected in
``PlanningConfig.ready``: a territory with quotas is retired, never erased."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from planning.models import Quota
from territories import hooks


def has_quotas(*, territory_ids: Sequence[int], **_: Any) -> bool:
    return Quota.objects.filter(territory_id__in=territory_ids).exists()


def connect() -> None:
    hooks.territory_records.connect(has_quotas, dispatch_uid="planning.has_quotas")
